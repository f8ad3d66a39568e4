//! One load client: a WebSocket, a writer task fed by a bounded queue, and a reader task that
//! counts acknowledgements and deliveries and records each delivery's end-to-end latency (the
//! send time travels in the message's first 20 characters; sender and receiver share a clock).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Nanoseconds since the epoch: the timestamp a message carries.
pub fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// What every reader of one load shares. Readers record into one of a few shards (by client
/// number), so two readers rarely take the same lock, and no reader needs a timer: with 10,000
/// sockets, a histogram per reader handed over on a tick cost the generator more CPU than the
/// server it measured.
pub struct Shared {
    pub delivered: AtomicU64,
    pub errors: AtomicU64,
    pub shards: Vec<Mutex<Shard>>,
    pub track_last_member: bool,
    /// Flipped to true when stalled clients should start reading again (to see whether the
    /// server cut them off).
    pub resume_stalled: watch::Receiver<bool>,
}

/// One shard of the load's measurements.
pub struct Shard {
    pub latency: Histogram<u64>,
    /// Per message (keyed by its send time): its slowest delivery, in microseconds. Only kept
    /// with `track_last_member` (large rooms), as it costs a map insert per delivery.
    pub slowest: HashMap<u64, u64>,
}

impl Shared {
    pub fn new(track_last_member: bool, resume_stalled: watch::Receiver<bool>) -> Self {
        let shard = || {
            let latency = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures is valid"));
            Mutex::new(Shard { latency, slowest: HashMap::new() })
        };
        Self {
            delivered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| shard()).collect(),
            track_last_member,
            resume_stalled,
        }
    }
}

const SHARDS: usize = 64;

/// How a stalled client's socket ended up once it read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StalledEnd {
    /// The server closed it: with this close code, or none if it just dropped the connection.
    CutOff(Option<u16>),
    /// Still open after reading everything the server had queued.
    Open,
}

pub struct Client {
    pub room: usize,
    pub conversation: i64,
    pub stalled: bool,
    /// Sends acknowledged by the server (parlor only).
    pub acked: Arc<AtomicU64>,
    /// Deliveries those acknowledged sends are owed: the count each send's `client_id` ends with.
    pub acked_deliveries: Arc<AtomicU64>,
    /// Frames handed to the writer (counted by the one task that sends).
    pub sent: u64,
    outbox: mpsc::Sender<String>,
    reader: JoinHandle<Option<StalledEnd>>,
}

impl Client {
    /// Queues a frame; false when the writer is this far behind (the frame is dropped).
    pub fn send(&mut self, frame: String) -> bool {
        let queued = self.outbox.try_send(frame).is_ok();
        self.sent += u64::from(queued);
        queued
    }

    /// For a stalled client, how its socket ended (after `resume_stalled`); None otherwise.
    pub async fn finish(self) -> Option<StalledEnd> {
        let Client { stalled, outbox, reader, .. } = self;
        if !stalled {
            reader.abort();
            return None;
        }
        // The writer stays open until the reader is done: closing it starts a close handshake,
        // which would read as the server closing the socket.
        let end = reader.await.ok().flatten();
        drop(outbox);
        end
    }
}

/// Opens a WebSocket, from `local` if given (several source addresses let one machine hold
/// more than the ~28k ephemeral ports' sockets to one port), with Nagle off as a real client
/// would have it. Binding a source address costs a search of the port range in the kernel per
/// socket (22 s of system time for 9,500 reconnects, measured): use it only past ~28k sockets.
pub async fn open(url: &str, local: Option<IpAddr>) -> anyhow::Result<Socket> {
    open_with(url, local, None).await
}

/// [`open`], with a receive buffer of `recv_buffer` bytes if given (a small window: a slow
/// consumer's socket fills after kilobytes rather than megabytes).
pub async fn open_with(url: &str, local: Option<IpAddr>, recv_buffer: Option<u32>) -> anyhow::Result<Socket> {
    let uri: Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let host = uri.host().context("URL without a host")?;
    let port = uri.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port)).await?.next().context("host does not resolve")?;
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(bytes) = recv_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    if let Some(ip) = local {
        socket.bind((ip, 0).into()).with_context(|| format!("binding {ip}"))?;
    }
    let stream = socket.connect(addr).await.with_context(|| format!("connecting {addr}"))?;
    stream.set_nodelay(true)?;
    // Dropped without a TIME_WAIT (a reset, as a network drop looks): otherwise every socket a
    // run closes holds its port for a minute, and a reconnect storm right after runs out of them.
    stream.set_zero_linger()?;
    // As a browser would: seed 001's Django server refuses handshakes without an Origin (parlor
    // takes one matching its own host as its own page).
    let mut request = url.into_client_request()?;
    let origin = format!("http://{host}:{port}");
    request.headers_mut().insert("origin", origin.parse()?);
    let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .with_context(|| format!("WebSocket handshake with {}", url.split('?').next().unwrap_or(url)))?;
    Ok(socket)
}

/// A stalled client's receive buffer: a small window, like a phone on a poor network.
const STALLED_RECV_BUFFER: u32 = 16 * 1024;

/// Connects one client and starts its writer and reader.
pub async fn connect(
    url: &str,
    room: usize,
    conversation: i64,
    stalled: bool,
    shared: Arc<Shared>,
    index: usize,
) -> anyhow::Result<Client> {
    let socket = open_with(url, None, stalled.then_some(STALLED_RECV_BUFFER)).await?;
    let (mut sink, source) = socket.split();
    let (outbox, mut queue) = mpsc::channel::<String>(1024);
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(Message::text(frame)).await.is_err() {
                break;
            }
        }
        sink.close().await.ok();
    });
    let acked = Arc::new(AtomicU64::new(0));
    let acked_deliveries = Arc::new(AtomicU64::new(0));
    let reader = if stalled {
        tokio::spawn(stall(source, shared))
    } else {
        tokio::spawn(read(source, shared, index % SHARDS, acked.clone(), acked_deliveries.clone()))
    };
    Ok(Client { room, conversation, stalled, acked, acked_deliveries, sent: 0, outbox, reader })
}

type Source = futures_util::stream::SplitStream<Socket>;

async fn read(
    mut source: Source,
    shared: Arc<Shared>,
    shard: usize,
    acked: Arc<AtomicU64>,
    acked_deliveries: Arc<AtomicU64>,
) -> Option<StalledEnd> {
    while let Some(Ok(msg)) = source.next().await {
        let Message::Text(text) = msg else { continue };
        match string_field(&text, "type") {
            Some("chat_message") => {
                let content = string_field(&text, "content");
                let Some(sent) = content.and_then(|c| c.get(..20)).and_then(|t| t.parse::<u64>().ok()) else {
                    continue;
                };
                let micros = now_nanos().saturating_sub(sent) / 1000;
                if let Ok(mut shard) = shared.shards[shard].lock() {
                    shard.latency.record(micros).ok();
                    if shared.track_last_member {
                        let worst = shard.slowest.entry(sent).or_insert(0);
                        *worst = micros.max(*worst);
                    }
                }
                shared.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Some("ack") => {
                acked.fetch_add(1, Ordering::Relaxed);
                let owed = string_field(&text, "client_id").and_then(|id| id.rsplit('-').next()?.parse::<u64>().ok());
                acked_deliveries.fetch_add(owed.unwrap_or(0), Ordering::Relaxed);
            }
            Some("error") => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    None
}

/// A slow consumer: reads nothing until told to, then reads everything to see whether the
/// server cut it off.
async fn stall(mut source: Source, shared: Arc<Shared>) -> Option<StalledEnd> {
    let mut resume = shared.resume_stalled.clone();
    resume.wait_for(|go| *go).await.ok()?;
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            msg = source.next() => match msg {
                Some(Ok(Message::Close(frame))) => return Some(StalledEnd::CutOff(frame.map(|f| f.code.into()))),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Some(StalledEnd::CutOff(None)),
            },
            _ = &mut deadline => return Some(StalledEnd::Open),
        }
    }
}

/// The string value of the first `"key"` in a JSON object, without parsing the rest: the
/// generator reads hundreds of thousands of frames a second on the server's machine, and a
/// full parse would take CPU from the server it measures. Values the load cares about (frame
/// types, the timestamp prefix of contents) need no unescaping. Tolerates `": "` (Python's
/// json.dumps, as the Django peer sends).
pub fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = json;
    loop {
        let at = rest.find('"')?;
        rest = &rest[at + 1..];
        let end = rest.find('"')?;
        let (name, after) = (&rest[..end], &rest[end + 1..]);
        let after = after.trim_start();
        if name == key
            && let Some(value) = after.strip_prefix(':')
        {
            let value = value.trim_start().strip_prefix('"')?;
            return Some(&value[..value.find('"')?]);
        }
        // Skip past this string: either a key whose value we do not want, or a value.
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::string_field;

    #[test]
    fn finds_top_level_strings_in_compact_and_spaced_json() {
        let parlor =
            r#"{"type":"chat_message","conversation_id":3,"sender_name":"type","content":"00000000000000000042|x"}"#;
        assert_eq!(string_field(parlor, "type"), Some("chat_message"));
        assert_eq!(string_field(parlor, "content"), Some("00000000000000000042|x"));
        let django = r#"{"type": "chat_message", "message_id": 7, "content": "abc"}"#;
        assert_eq!(string_field(django, "type"), Some("chat_message"));
        assert_eq!(string_field(django, "content"), Some("abc"));
        assert_eq!(string_field(django, "missing"), None);
        assert_eq!(string_field(r#"{"type": 3}"#, "type"), None);
    }
}
