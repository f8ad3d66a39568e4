//! Verifiable transcripts (issue #24): the event log is hash-chained as it is written, the
//! server signs a conversation's transcript (`parlor admin export --signed`, the server API),
//! and `parlor verify`, the real binary, checks it offline: a genuine one verifies and lists
//! edits, deletes and withheld content; a flipped byte, a dropped, reordered or rewritten event
//! is caught, by the signature and, re-signed with another key, by the chain itself. Two nodes
//! writing to one conversation: `cluster/transcripts.rs`.

use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use parlor_core::chain;
use parlor_server::transcript::verify::verify as verify_bytes;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{API_KEY, TestApp, TestUser, WAIT, temp_path};

/// What `parlor verify` printed, and whether it passed.
pub(crate) struct Verdict {
    pub(crate) ok: bool,
    pub(crate) out: String,
}

async fn parlor(args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"));
    command.args(args).kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::time::timeout(WAIT * 3, command.output()).await.expect("parlor finishes").unwrap()
}

async fn verify_file(path: &Path, key: Option<&str>) -> Verdict {
    let mut args = vec!["verify", path.to_str().unwrap()];
    if let Some(key) = key {
        args.extend(["--key", key]);
    }
    let out = parlor(&args, &[]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    println!("parlor verify: {text}{}", String::from_utf8_lossy(&out.stderr));
    Verdict { ok: out.status.success(), out: text }
}

pub(crate) async fn verify_written(dir: &Path, name: &str, bytes: &[u8], key: Option<&str>) -> Verdict {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    verify_file(&path, key).await
}

pub(crate) async fn transcript_over_http(app: &TestApp, id: i64) -> Vec<u8> {
    let path = format!("/api/server/conversations/{id}/transcript");
    let answer = app.http.get(app.url(&path)).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "application/x-ndjson");
    answer.bytes().await.unwrap().to_vec()
}

pub(crate) async fn server_key(app: &TestApp) -> String {
    let (status, body) = app.server(Method::GET, "/api/server/transcript-key", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["algorithm"], "ed25519");
    body["public_key"].as_str().unwrap().to_owned()
}

async fn edit(user: &TestUser, id: i64, content: &str) {
    let (status, body) = user.patch(&format!("/api/chat/messages/{id}/"), json!({"content": content})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub(crate) fn id_of(message: &Value) -> i64 {
    message["id"].as_i64().unwrap()
}

/// A conversation with a little of everything: messages, an edit, a delete, a reaction, a read.
async fn busy_conversation(app: &TestApp) -> (i64, [i64; 3]) {
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let one = id_of(&app.send_message(&alice, dm, "one").await);
    let two = id_of(&app.send_message(&bob, dm, "two").await);
    let three = id_of(&app.send_message(&alice, dm, "three").await);
    edit(&bob, two, "two, edited").await;
    let (status, _) = alice.delete(&format!("/api/chat/messages/{three}/")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = bob.post(&format!("/api/chat/messages/{one}/reactions/"), json!({"emoji": "👍"})).await;
    assert!(status.is_success(), "{status}");
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert!(status.is_success(), "{status}");
    (dm, [one, two, three])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_transcript_verifies_and_shows_edits_and_deletes() {
    let app = TestApp::spawn().await;
    let (dm, [_, two, three]) = busy_conversation(&app).await;
    let key = server_key(&app).await;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_path_buf();

    // The admin CLI writes exactly what the server API serves.
    let file = dir.join("signed.jsonl");
    let env = [("PARLOR_URL", format!("http://{}", app.addr)), ("PARLOR_API_KEY", API_KEY.to_owned())];
    let dm_arg = dm.to_string();
    let out = parlor(&["admin", "export", &dm_arg, "--signed", "-o", file.to_str().unwrap()], &env).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = std::fs::read(&file).unwrap();
    let served = transcript_over_http(&app, dm).await;
    let (a, b) = (String::from_utf8(exported).unwrap(), String::from_utf8(served.clone()).unwrap());
    let events = |t: &str| -> Vec<String> {
        let all: Vec<String> = t.lines().map(str::to_owned).collect();
        all[1..all.len() - 1].to_vec()
    };
    assert_eq!(events(&a), events(&b), "the same events (only the export time and signature differ)");

    let verdict = verify_file(&file, Some(&key)).await;
    assert!(verdict.ok, "{}", verdict.out);
    assert!(verdict.out.contains("VERIFIED"), "{}", verdict.out);
    assert!(
        verdict.out.contains(&format!("edited: message {two} (seq 2) at seq 4: \"two\" -> \"two, edited\"")),
        "the edit, before and after: {}",
        verdict.out
    );
    assert!(verdict.out.contains(&format!("deleted: message {three} (seq 3) at seq 5")), "{}", verdict.out);
    assert!(
        verdict.out.contains("withheld: seq 3 (message_created)") && verdict.out.contains("(deleted)"),
        "{}",
        verdict.out
    );
    let over_http = verify_written(&dir, "served.jsonl", &served, Some(&key)).await;
    assert!(over_http.ok, "{}", over_http.out);

    // Another server's key: the same file does not verify as this one's.
    let stranger = chain::to_hex(SigningKey::from_bytes(&[7; 32]).verifying_key().as_bytes());
    let verdict = verify_file(&file, Some(&stranger)).await;
    assert!(!verdict.ok && verdict.out.contains("not the expected"), "{}", verdict.out);

    let (status, _) = app.server(Method::GET, "/api/server/conversations/999999/transcript", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_key_is_kept_across_restarts() {
    let (_guard, data_dir) = temp_path();
    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    let first = server_key(&app).await;
    app.stop().await;
    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    assert_eq!(server_key(&app).await, first, "generated once, then read back");
    app.stop().await;
}

/// Lines of a transcript, re-signed by a key of the forger's own with the header fixed up to
/// match (counts, last seq, head): what is left to catch the forgery is the chain.
fn forge(lines: &[Value]) -> Vec<u8> {
    let forger = SigningKey::from_bytes(&[9; 32]);
    let mut header = lines[0].clone();
    let events = &lines[1..lines.len() - 1];
    header["public_key"] = json!(chain::to_hex(forger.verifying_key().as_bytes()));
    header["events"] = json!(events.len());
    header["last_seq"] = events.last().map_or(Value::Null, |e| e["seq"].clone());
    header["head"] = events.last().map_or(Value::Null, |e| e["hash"].clone());
    let mut out = Vec::new();
    for line in std::iter::once(&header).chain(events) {
        out.extend(serde_json::to_vec(line).unwrap());
        out.push(b'\n');
    }
    let signature = chain::to_hex(&forger.sign(&out).to_bytes());
    out.extend(serde_json::to_vec(&json!({"algorithm": "ed25519", "signature": signature})).unwrap());
    out.push(b'\n');
    out
}

fn lines_of(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_a_transcript_is_detected() {
    let app = TestApp::spawn().await;
    let (dm, _) = busy_conversation(&app).await;
    let key = server_key(&app).await;
    let genuine = transcript_over_http(&app, dm).await;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_path_buf();
    assert!(verify_bytes(&genuine, Some(&key)).verified());

    // Any byte flipped anywhere: caught (checked in-process for every byte, by the binary for some).
    for at in 0..genuine.len() {
        let mut flipped = genuine.clone();
        flipped[at] ^= 0x01;
        assert!(!verify_bytes(&flipped, None).verified(), "a flipped bit at byte {at} went unnoticed");
    }
    let mut flipped = genuine.clone();
    let middle = genuine.len() / 2;
    flipped[middle] ^= 0x20;
    let verdict = verify_written(&dir, "flipped.jsonl", &flipped, Some(&key)).await;
    assert!(!verdict.ok && verdict.out.contains("FAILED"), "{}", verdict.out);

    let lines = lines_of(&genuine);
    // A forgery that keeps every line but re-signs verifies on its own key only.
    let resigned = forge(&lines);
    assert!(verify_written(&dir, "resigned.jsonl", &resigned, None).await.ok, "the chain itself is intact");
    let verdict = verify_written(&dir, "resigned-pinned.jsonl", &resigned, Some(&key)).await;
    assert!(!verdict.ok && verdict.out.contains("not the expected"), "{}", verdict.out);

    // Dropping an event (seq 4, the edit), even re-signed: the chain breaks.
    let mut dropped = lines.clone();
    dropped.remove(4);
    let verdict = verify_written(&dir, "dropped.jsonl", &forge(&dropped), None).await;
    assert!(!verdict.ok, "{}", verdict.out);
    assert!(verdict.out.contains("seq 5 where seq 4 belongs"), "{}", verdict.out);
    assert!(verdict.out.contains("seq 5: the chain is broken"), "{}", verdict.out);
    // The last event dropped (its removal leaves every remaining link whole) is caught by the
    // server's signature over the header's count.
    let mut truncated = genuine.clone();
    let body = String::from_utf8(genuine.clone()).unwrap();
    let kept: Vec<&str> = body.lines().collect();
    truncated.clear();
    for line in kept[..kept.len() - 2].iter().chain(std::iter::once(&kept[kept.len() - 1])) {
        truncated.extend(line.as_bytes());
        truncated.push(b'\n');
    }
    assert!(!verify_written(&dir, "truncated.jsonl", &truncated, Some(&key)).await.ok);

    // Two events swapped, re-signed: out of order and broken.
    let mut reordered = lines.clone();
    reordered.swap(2, 3);
    let verdict = verify_written(&dir, "reordered.jsonl", &forge(&reordered), None).await;
    assert!(!verdict.ok && verdict.out.contains("events missing or out of order"), "{}", verdict.out);

    // The edit rewritten to say something else, its content hash recomputed, re-signed.
    let mut rewritten = lines.clone();
    assert_eq!(rewritten[4]["kind"], "message_edited");
    rewritten[4]["content"] = json!("two, as the forger would have it");
    rewritten[4]["content_hash"] = json!(chain::to_hex(&chain::content_hash("two, as the forger would have it")));
    let verdict = verify_written(&dir, "rewritten.jsonl", &forge(&rewritten), None).await;
    assert!(!verdict.ok && verdict.out.contains("seq 4: the chain is broken"), "{}", verdict.out);
    // ...or the edit's text swapped for the original's, leaving the hash: the content gives it away.
    let mut swapped = lines.clone();
    swapped[4]["content"] = lines[2]["content"].clone();
    let verdict = verify_written(&dir, "swapped.jsonl", &forge(&swapped), None).await;
    assert!(!verdict.ok && verdict.out.contains("seq 4: the content does not match its hash"), "{}", verdict.out);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erased_content_keeps_the_chain_checkable() {
    if crate::helpers::sqlite_only("erased_content_keeps_the_chain_checkable") {
        return;
    }
    use sqlx::Connection;
    let (_guard, data_dir) = temp_path();
    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let kept = id_of(&app.send_message(&alice, dm, "kept").await);
    let erased = id_of(&app.send_message(&bob, dm, "personal data").await);
    // Erasure as the data-rights sweep does it: the text goes, the log stays.
    let url = format!("sqlite://{}", data_dir.join("parlor.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE messages SET content = '' WHERE id = ?").bind(erased).execute(&mut db).await.unwrap();
    db.close().await.unwrap();

    let transcript = transcript_over_http(&app, dm).await;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_path_buf();
    let verdict = verify_written(&dir, "erased.jsonl", &transcript, Some(&server_key(&app).await)).await;
    assert!(verdict.ok, "{}", verdict.out);
    assert!(
        verdict.out.contains("withheld: seq 2 (message_created)") && verdict.out.contains("(erased)"),
        "{}",
        verdict.out
    );
    let text = String::from_utf8(transcript).unwrap();
    assert!(text.contains("\"kept\"") && !text.contains("personal data"), "{text}");
    assert!(kept > 0);
    app.stop().await;
}

/// Issue #24 part 5: an account's erasure, and a retention sweep, show as `erased`; an
/// ordinary delete as `deleted`, in the transcript and in what `parlor verify` lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_shows_as_erased_and_a_delete_as_deleted() {
    let app = TestApp::spawn_with(|c| c.retention.sweep_secs = 0.1).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let dm = app.dm(&alice, &bob).await;
    let deleted = id_of(&app.send_message(&alice, dm, "oops").await);
    let erased = id_of(&app.send_message(&bob, dm, "personal data").await);
    let (status, body) = alice.delete(&format!("/api/chat/messages/{deleted}/")).await;
    assert!(status.is_success(), "{body}");
    let answer =
        app.http.delete(app.url("/api/users/me")).bearer_auth(&bob.token).json(&json!({"password": "correct horse"}));
    assert_eq!(answer.send().await.unwrap().status(), StatusCode::NO_CONTENT);

    let transcript = transcript_over_http(&app, dm).await;
    let lines: Vec<Value> =
        String::from_utf8(transcript.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let created = |message: i64| {
        lines
            .iter()
            .find(|l| {
                l["kind"] == "message_created"
                    && serde_json::from_str::<Value>(l["metadata"].as_str().unwrap_or("null")).unwrap()["message_id"]
                        == message
            })
            .unwrap_or_else(|| panic!("message {message} created in {lines:?}"))
            .clone()
    };
    let (was_deleted, was_erased) = (created(deleted), created(erased));
    assert_eq!((&was_deleted["content"], &was_deleted["withheld"]), (&Value::Null, &json!("deleted")));
    assert_eq!((&was_erased["content"], &was_erased["withheld"]), (&Value::Null, &json!("erased")));

    let scratch = tempfile::tempdir().unwrap();
    let verdict = verify_written(scratch.path(), "erasure.jsonl", &transcript, Some(&server_key(&app).await)).await;
    assert!(verdict.ok, "{}", verdict.out);
    for (seq, message, why) in [(&was_deleted["seq"], deleted, "deleted"), (&was_erased["seq"], erased, "erased")] {
        let listed = format!("{why}: message {message} (seq {seq})");
        let withheld = format!("withheld: seq {seq} (message_created) content not in the transcript ({why})");
        assert!(verdict.out.contains(&listed) && verdict.out.contains(&withheld), "{why}: {}", verdict.out);
    }

    // Disappearing messages: the retention sweep erases too.
    let other = app.dm(&alice, &carol).await;
    let (status, body) =
        alice.put(&format!("/api/chat/conversations/{other}/retention"), json!({"retention_secs": 1})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let fleeting = id_of(&app.send_message(&alice, other, "fleeting").await);
    let path = format!("/api/chat/conversations/{other}/messages?limit=100");
    crate::helpers::eventually(WAIT * 2, "the sweep erases the message", || async {
        let (_, page) = carol.get(&path).await;
        page["results"].as_array().is_some_and(|all| all.iter().any(|m| m["id"] == fleeting && m["deleted"] == true))
    })
    .await;
    let swept = transcript_over_http(&app, other).await;
    let verdict = verify_written(scratch.path(), "swept.jsonl", &swept, None).await;
    assert!(verdict.ok, "{}", verdict.out);
    assert!(verdict.out.contains(&format!("erased: message {fleeting} (seq ")), "{}", verdict.out);
    app.stop().await;
}
