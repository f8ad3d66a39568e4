//! Memory under hostile bursts, measured on the real binary's resident set
//! (/proc/<pid>/status): password hashing keeps one reused buffer per permit, so a burst of
//! logins leaves the process no larger than before (issue 17, item 11); images are decoded
//! under a byte budget that counts bit depth and channels, a few at a time (item 7).

use futures_util::future::join_all;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{Process, RemoteApp, temp_path};

const MIB: u64 = 1024;

/// Logins and registrations unlimited, as from many addresses.
const UNLIMITED: [(&str, &str); 3] = [
    ("PARLOR_RATE_LIMITS__LOGINS_PER_IP__PER_MINUTE", "0"),
    ("PARLOR_RATE_LIMITS__LOGINS_PER_USERNAME__PER_MINUTE", "0"),
    ("PARLOR_RATE_LIMITS__REGISTRATIONS_PER_IP__PER_MINUTE", "0"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_failed_logins_leaves_the_servers_memory_where_it_was() {
    let (_dir, data) = temp_path();
    let dir = data.to_str().unwrap();
    let server = Process::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &UNLIMITED).await;
    let app = server.app_view();
    let (status, body) =
        app.post(None, "/api/auth/register", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A few logins first, so the buffers of every permit exist: the bound is on what stays after.
    let login = |username: String| {
        let app = &app;
        async move { app.post(None, "/api/auth/token", json!({"username": username, "password": "wrong password"})).await }
    };
    for status in join_all((0..8).map(|i| login(format!("warm{i}")))).await {
        assert_eq!(status.0, StatusCode::UNAUTHORIZED);
    }
    let before = server.rss_kib();

    let burst = (0..200).map(|i| login(if i % 2 == 0 { "alice".into() } else { format!("nobody{i}") }));
    for (status, body) in join_all(burst).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let after = server.rss_kib();
    // Each Argon2 call works in ~19 MiB: a leak of even a few of them would pass this bound.
    let grown = after.saturating_sub(before);
    assert!(grown < 32 * MIB, "RSS {before} KiB before the burst, {after} KiB after: grew {grown} KiB");
}

/// A PNG of `width`x`height` 16-bit RGBA pixels, all zero: a few MB of file for
/// `width x height x 8` bytes decoded. The zlib stream is written by hand (fixed Huffman codes:
/// one zero, then matches of 258 at distance 1), so making it costs the test nothing.
fn zero_png_rgba16(width: u32, height: u32) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        len: u32,
    }
    impl Bits {
        /// `n` bits of `value`, least significant first (deflate's own fields).
        fn put(&mut self, value: u64, n: u32) {
            self.acc |= value << self.len;
            self.len += n;
            while self.len >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.len -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, code: u64, n: u32) {
            let reversed = (0..n).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.put(reversed, n);
        }
    }
    let raw = u64::from(height) * (1 + u64::from(width) * 8);
    let mut bits = Bits { out: vec![0x78, 0x01], acc: 0, len: 0 };
    bits.put(1, 1); // the final block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..(raw - 1) / 258 {
        bits.code(0xC5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    for _ in 0..(raw - 1) % 258 {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7); // pad to a byte
    let mut idat = bits.out;
    let adler = ((raw % 65521) << 16) | 1; // all zeros: a = 1, b = n
    idat.extend_from_slice(&u32::try_from(adler).unwrap().to_be_bytes());

    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[16, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> =
        (0..256u32).map(|n| (0..8).fold(n, |c, _| if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 })).collect();
    !bytes.iter().fold(0xFFFF_FFFFu32, |crc, b| table[((crc ^ u32::from(*b)) & 0xFF) as usize] ^ (crc >> 8))
}

/// A user with a conversation to upload into.
async fn uploader(app: &RemoteApp) -> (String, i64) {
    let mut tokens = Vec::new();
    for name in ["alice", "bob"] {
        let (status, body) =
            app.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokens.push((body["access"].as_str().unwrap().to_owned(), body["user"]["id"].as_i64().unwrap()));
    }
    let (status, dm) = app.post(Some(&tokens[0].0), "/api/chat/conversations/", json!({"user_id": tokens[1].1})).await;
    assert!(status.is_success(), "{dm}");
    (tokens.swap_remove(0).0, dm["id"].as_i64().unwrap())
}

/// Six uploads of `png` at once; their answers.
async fn six_at_once(app: &RemoteApp, token: &str, conversation: i64, png: &[u8]) -> Vec<(StatusCode, Value)> {
    let url = format!("http://{}/api/chat/conversations/{conversation}/attachments/", app.addr);
    join_all((0..6).map(|i| {
        let form = Form::new().part("file", Part::bytes(png.to_vec()).file_name(format!("deep{i}.png")));
        let request = app.http.post(&url).bearer_auth(token).multipart(form);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json().await.unwrap_or(Value::Null))
        }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_deep_colour_image_bombs_at_once_are_refused_by_their_decoded_bytes() {
    let (_dir, data) = temp_path();
    let dir = data.to_str().unwrap();
    let server = Process::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &[]).await;
    let app = server.app_view();
    let (token, conversation) = uploader(&app).await;
    // 39.7 MP is within max_image_pixels; at 8 bytes a pixel it is 317.5 MB decoded.
    let bomb = zero_png_rgba16(6300, 6300);
    assert!(bomb.len() < 3 << 20, "a small file: {} bytes", bomb.len());
    let before = server.rss_kib();
    for (status, body) in six_at_once(&app, &token, conversation, &bomb).await {
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("image_too_large")),
            "{body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("Rgba16") && message.contains("317520000"), "{message}");
    }
    // Six undecoded files in flight at most (a few MB each), never the pixels.
    let peak = server.peak_rss_kib();
    assert!(peak < before + 64 * MIB, "RSS {before} KiB before; peak {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_within_the_budget_are_decoded_a_few_at_a_time() {
    let (_dir, data) = temp_path();
    let dir = data.to_str().unwrap();
    let one_at_a_time = [("PARLOR_ATTACHMENTS__IMAGE_DECODES", "1")];
    let server = Process::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &one_at_a_time).await;
    let app = server.app_view();
    let (token, conversation) = uploader(&app).await;
    // 32 MB decoded each: six at once would hold 192 MB of pixels; one at a time, 32.
    let image = zero_png_rgba16(2000, 2000);
    let before = server.rss_kib();
    for (status, body) in six_at_once(&app, &token, conversation, &image).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            (body["attachment"]["width"].as_i64(), body["attachment"]["height"].as_i64()),
            (Some(2000), Some(2000))
        );
    }
    let peak = server.peak_rss_kib();
    assert!(peak < before + 96 * MIB, "RSS {before} KiB before; peak {peak} KiB");
}
