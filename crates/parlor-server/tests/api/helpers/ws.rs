//! `Ws`: a WebSocket client whose every wait has a timeout, and what a refused handshake says.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::WAIT;

pub async fn ws_refused(url: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub hello: Value,
    /// Frame types [`Ws::next`] and [`Ws::expect_quiet`] pass over: by default receipts and the
    /// per-user frames (presence, notifications) that arrive whenever other clients come and go.
    pub ignored: &'static [&'static str],
}

/// What most tests ignore; see [`Ws::ignored`].
pub const BACKGROUND_FRAMES: &[&str] = &["messages_delivered", "user_status_change", "notification"];

impl Ws {
    pub async fn connect(url: &str) -> Ws {
        Self::connect_request(url.into_client_request().unwrap()).await
    }

    pub async fn connect_request(request: tungstenite::handshake::client::Request) -> Ws {
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("handshake");
        let mut ws = Ws { stream, hello: Value::Null, ignored: BACKGROUND_FRAMES };
        ws.hello = ws.next().await;
        assert_eq!(ws.hello["type"], "connection_established", "first frame: {}", ws.hello);
        ws
    }

    /// A socket whose server says nothing first (the seeds' sockets, `compat/`).
    pub async fn connect_quiet(request: tungstenite::handshake::client::Request) -> Ws {
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("handshake");
        Ws { stream, hello: Value::Null, ignored: BACKGROUND_FRAMES }
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream.send(Message::text(frame.to_string())).await.unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text.to_owned())).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream.send(Message::binary(bytes)).await.unwrap();
    }

    /// The next JSON frame, skipping pings and the [`Ws::ignored`] types (receipts, presence and
    /// notifications unless a test watches them; use [`Ws::next_any`] to see everything).
    /// Fails after [`WAIT`].
    pub async fn next(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if !self.ignores(&frame) {
                return frame;
            }
        }
    }

    /// Watches these per-user frame types too (only receipts stay ignored).
    pub fn watching(mut self) -> Self {
        self.ignored = &["messages_delivered"];
        self
    }

    fn ignores(&self, frame: &Value) -> bool {
        frame["type"].as_str().is_some_and(|t| self.ignored.contains(&t))
    }

    /// The next JSON frame of any type (pings are skipped). Fails after [`WAIT`].
    pub async fn next_any(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame");
            match msg {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next raw message, whatever it is; `None` once the connection is gone.
    pub async fn next_raw(&mut self) -> Option<Message> {
        match self.stream.next().await {
            Some(Ok(msg)) => Some(msg),
            _ => None,
        }
    }

    /// The first frame (of those [`Ws::next`] shows) that `wanted` matches, skipping the others.
    /// Fails after [`WAIT`] in all, naming `what`.
    pub async fn next_matching(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let find = async {
            loop {
                let frame = self.next().await;
                if wanted(&frame) {
                    return frame;
                }
            }
        };
        tokio::time::timeout(WAIT, find).await.unwrap_or_else(|_| panic!("never came within {WAIT:?}: {what}"))
    }

    /// The next `n` frames.
    pub async fn take(&mut self, n: usize) -> Vec<Value> {
        let mut frames = Vec::with_capacity(n);
        for _ in 0..n {
            frames.push(self.next().await);
        }
        frames
    }

    /// The next frame, which must be of type `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], kind, "expected a {kind} frame, got {frame}");
        frame
    }

    /// Asserts no text frame arrives for `ms` milliseconds. A ping round trip first makes sure
    /// everything the server already sent has been read.
    pub async fn expect_quiet(&mut self, ms: u64) {
        self.send(serde_json::json!({"type": "ping"})).await;
        let pong = self.next().await;
        assert_eq!(pong["type"], "pong", "unexpected frame before pong: {pong}");
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, self.stream.next()).await {
            if let Message::Text(text) = msg {
                let frame: Value = serde_json::from_str(&text).unwrap();
                assert!(self.ignores(&frame), "expected no frame, got {text}");
            }
        }
    }

    /// Waits for the server to close the socket; returns the close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("close in time") {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Says goodbye (a close frame) without reading on: the socket stays open under it.
    pub async fn send_close(&mut self) {
        self.stream.send(Message::Close(None)).await.unwrap();
    }

    pub async fn close(mut self) {
        self.stream.close(None).await.ok();
    }
}
