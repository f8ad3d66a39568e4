//! Self-service data export (docs/privacy.md §5): the archive holds exactly what the person may
//! read (a room they left as it was when they left, nothing of a conversation they are not in,
//! their own files but not others'), only they can download it, and it is bounded: one a day
//! here, a size cap, an expiry after which its file is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::schema::Database;
use super::{history, room};
use crate::attachments::pdf;
use crate::helpers::{TestApp, TestUser, WAIT, temp_path};

/// Asks for an export; returns its id.
async fn request(user: &TestUser) -> i64 {
    let (status, body) = user.post("/api/users/me/export", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending", "{body}");
    body["id"].as_i64().unwrap()
}

/// Polls the export until its status is `want` (failing on any other final status).
async fn until(user: &TestUser, id: i64, want: &str) -> Value {
    crate::helpers::eventually(WAIT, &format!("the export becomes {want}"), || async {
        let (status, body) = user.get(&format!("/api/users/me/exports/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] == want { Ok(body) } else { Err(body) }
    })
    .await
}

async fn download(app: &TestApp, user: &TestUser, id: i64) -> (StatusCode, Vec<u8>) {
    let url = app.url(&format!("/api/users/me/exports/{id}/download"));
    let response = app.http.get(url).bearer_auth(&user.token).send().await.unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["content-type"], "application/zip");
    }
    (status, response.bytes().await.unwrap().to_vec())
}

/// Every file of the zip, by name.
fn unzip(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().to_owned(), content);
    }
    files
}

fn json_of(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(files.get(name).unwrap_or_else(|| panic!("{name} in the archive"))).unwrap()
}

async fn upload(app: &TestApp, user: &TestUser, conversation: i64, name: &str, bytes: Vec<u8>) -> Value {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let url = app.url(&format!("/api/chat/conversations/{conversation}/attachments"));
    let sent = app.http.post(url).bearer_auth(&user.token).multipart(form).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    sent.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_exactly_what_its_owner_may_read_and_only_they_download_it() {
    let app = TestApp::spawn_with(|c| c.privacy.export_per_day = 1).await;
    let (alice, bob, carol, dave) = (
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
        app.register("dave").await,
    );
    let quiet = json!({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"}});
    assert_eq!(alice.patch("/api/users/me/notification-settings", quiet).await.0, StatusCode::OK);

    // A direct conversation: her file and his, her reaction and his, her read receipt.
    let dm = app.dm(&alice, &bob).await;
    let hers = app.send_message(&alice, dm, "hi bob").await;
    let her_file_bytes = pdf(3000);
    let her_file = upload(&app, &alice, dm, "alice-notes.pdf", her_file_bytes.clone()).await;
    let his = app.send_message(&bob, dm, "hi alice").await;
    upload(&app, &bob, dm, "bob-secret.pdf", pdf(2500)).await;
    let react = |id: &Value| format!("/api/chat/messages/{id}/reactions");
    assert_eq!(alice.post(&react(&his["id"]), json!({"emoji": "👍"})).await.0, StatusCode::OK);
    assert_eq!(bob.post(&react(&hers["id"]), json!({"emoji": "🎉"})).await.0, StatusCode::OK);
    let read = format!("/api/chat/conversations/{dm}/mark_read");
    assert!(alice.post(&read, json!({})).await.0.is_success());

    // A room she left: what came and changed after she left is not hers to read.
    let crew = room(&bob, &[&alice, &carol]).await;
    let before = app.send_message(&carol, crew, "before you left").await;
    app.send_message(&alice, crew, "bye all").await;
    let leave = format!("/api/chat/conversations/{crew}/leave");
    assert_eq!(alice.post(&leave, json!({})).await.0, StatusCode::NO_CONTENT);
    app.send_message(&carol, crew, "after you left").await;
    let edit = format!("/api/chat/messages/{}", before["id"]);
    assert_eq!(carol.patch(&edit, json!({"content": "changed later"})).await.0, StatusCode::OK);
    // A conversation she was never in.
    let elsewhere = app.dm(&carol, &dave).await;
    app.send_message(&carol, elsewhere, "not for alice").await;

    let mut socket = app.ws(&alice.token).await.watching();
    let id = request(&alice).await;
    // One a day here: a second request is refused, clearly.
    let (status, body) = alice.post("/api/users/me/export", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{body}");
    let ready = until(&alice, id, "ready").await;
    assert_eq!(ready["download_url"], format!("/api/users/me/exports/{id}/download"), "{ready}");
    assert!(ready["size_bytes"].as_u64().is_some_and(|n| n > 3000), "{ready}");
    // Her open socket is told, as the inbox is.
    socket
        .next_matching("an export_ready notification on her socket", |frame| {
            frame["type"] == "notification" && frame["notification"]["type"] == "export_ready"
        })
        .await;
    let (_, inbox) = alice.get("/api/notifications").await;
    let kinds: Vec<&str> = inbox["results"].as_array().unwrap().iter().filter_map(|n| n["type"].as_str()).collect();
    assert!(kinds.contains(&"export_ready"), "{inbox}");
    let (status, body) = alice.post("/api/users/me/export", json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["message"].as_str().unwrap().contains("at most 1"), "{body}");

    // Nobody else sees or downloads it.
    assert_eq!(download(&app, &bob, id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(bob.get(&format!("/api/users/me/exports/{id}")).await.0, StatusCode::NOT_FOUND);
    let (_, theirs) = bob.get("/api/users/me/exports").await;
    assert_eq!(theirs["results"], json!([]), "{theirs}");
    let (_, mine) = alice.get("/api/users/me/exports").await;
    assert_eq!(mine["results"][0]["id"], id, "{mine}");

    let (status, bytes) = download(&app, &alice, id).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(bytes);
    let her_attachment = &her_file["attachment"];
    let her_path = format!("attachments/{}-alice-notes.pdf", her_attachment["id"]);
    let names: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    let expected: BTreeSet<String> = [
        "README.txt",
        "profile.json",
        "notification_settings.json",
        "conversations.json",
        "receipts.json",
        "reactions.json",
        "attachments.json",
        &format!("messages/{dm}.json"),
        &format!("messages/{crew}.json"),
        &her_path,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(names, expected.iter().map(String::as_str).collect(), "exactly these files, none of bob's or carol's");

    let profile = json_of(&files, "profile.json");
    assert_eq!((profile["id"].as_i64(), profile["username"].as_str()), (Some(alice.id), Some("alice")));
    assert_eq!(json_of(&files, "notification_settings.json")["quiet_hours"]["time_zone"], "Europe/Berlin");
    let conversations: BTreeSet<i64> =
        json_of(&files, "conversations.json").as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(conversations, BTreeSet::from([dm, crew]), "her conversations, the one she left included");
    for conversation in [dm, crew] {
        let mut expected = history(&alice, conversation).await;
        expected.reverse();
        let exported = json_of(&files, &format!("messages/{conversation}.json"));
        assert_eq!(exported, Value::Array(expected), "conversation {conversation}: what her own client shows");
    }
    let crew_texts: Vec<String> = json_of(&files, &format!("messages/{crew}.json"))
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["system"].is_null())
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(crew_texts, ["before you left", "bye all"], "the room as it was when she left");
    assert_eq!(
        json_of(&files, "reactions.json"),
        json!([{"conversation_id": dm, "message_id": his["id"], "emoji": "👍"}]),
        "her reactions, not others'"
    );
    let receipts = json_of(&files, "receipts.json");
    let dm_receipt = receipts.as_array().unwrap().iter().find(|r| r["conversation_id"] == dm).unwrap();
    assert!(dm_receipt["last_read_seq"].as_i64().unwrap() >= his["seq"].as_i64().unwrap(), "{receipts}");
    let attachments = json_of(&files, "attachments.json");
    assert_eq!(attachments.as_array().unwrap().len(), 1, "only her own file: {attachments}");
    assert_eq!(attachments[0]["path"], her_path.as_str());
    assert_eq!(files[&her_path], her_file_bytes, "the file's bytes as she sent them");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_over_the_size_bound_fails_clearly() {
    let app = TestApp::spawn_with(|c| c.privacy.export_max_bytes = 4096).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    upload(&app, &alice, dm, "big.pdf", pdf(8000)).await;
    let id = request(&alice).await;
    let failed = until(&alice, id, "failed").await;
    assert_eq!((failed["error"].as_str(), &failed["download_url"]), (Some("too_large"), &Value::Null), "{failed}");
    assert_eq!(download(&app, &alice, id).await.0, StatusCode::NOT_FOUND, "nothing to download");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_is_deleted_when_it_expires() {
    let (_guard, data_dir) = temp_path();
    let app = TestApp::spawn_at(&data_dir, |c| {
        c.privacy.export_expiry_hours = 1.0 / 3600.0;
        c.privacy.export_sweep_secs = 0.2;
    })
    .await;
    let alice = app.register("alice").await;
    let id = request(&alice).await;
    // Ready, then (a second later) expired: the download goes, and so does the file.
    let expired = until(&alice, id, "expired").await;
    assert_eq!(expired["download_url"], Value::Null, "{expired}");
    assert_eq!(download(&app, &alice, id).await.0, StatusCode::NOT_FOUND);
    // The sweep marks the job expired, then deletes its file.
    let exports = data_dir.join("files/exports");
    crate::helpers::eventually(WAIT, "the archive's file is gone", || async {
        let left: Vec<_> = std::fs::read_dir(&exports).into_iter().flatten().flatten().map(|e| e.path()).collect();
        if left.is_empty() { Ok(()) } else { Err(format!("{left:?}")) }
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_a_stopped_node_was_building_are_taken_over_after_a_restart() {
    let (_guard, data_dir) = temp_path();
    let quick = |c: &mut parlor_server::config::Config| c.privacy.export_sweep_secs = 0.2;
    let app = TestApp::spawn_at(&data_dir, quick).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let database = app.database.clone();
    app.stop().await;
    // What a node leaves when it stops mid-run: exports marked running, their claims run out.
    // Alice's was tried once; Bob's twice already, the most an export gets.
    let mut db = Database::open(&database).await;
    let now = crate::helpers::unix_now() * 1000;
    let stopped = |attempts: i64| {
        format!(
            "INSERT INTO exports (user_id, status, created_at, lease_until, attempts) \
             VALUES ($1, 'running', {}, {}, {attempts})",
            now - 60_000,
            now - 1000
        )
    };
    db.execute(&stopped(1), alice.id).await;
    db.execute(&stopped(2), bob.id).await;
    drop(db);

    let app = TestApp::spawn_at(&data_dir, quick).await;
    let (alice, bob) = (app.signed_in(alice.id, &alice.token), app.signed_in(bob.id, &bob.token));
    let (_, listed) = alice.get("/api/users/me/exports").await;
    let id = listed["results"][0]["id"].as_i64().unwrap();
    let taken_over = until(&alice, id, "ready").await;
    assert!(taken_over["download_url"].is_string(), "{taken_over}");
    assert_eq!(download(&app, &alice, id).await.0, StatusCode::OK);
    let (_, listed) = bob.get("/api/users/me/exports").await;
    let id = listed["results"][0]["id"].as_i64().unwrap();
    let given_up = until(&bob, id, "failed").await;
    assert_eq!(given_up["error"], "interrupted", "{given_up}");
    app.stop().await;
}
