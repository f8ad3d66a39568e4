//! `parlor admin`, the real binary against a running server: accounts, tokens, disabling,
//! exports in JSON and HTML, online backups and vacuuming, and a clear failure on a wrong key.

use std::path::Path;
use std::process::Stdio;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::helpers::{API_KEY, TestApp, TestUser, WAIT};

/// What one `parlor admin ...` run printed, and whether it succeeded.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn admin(app: &TestApp, args: &[&str]) -> Run {
    admin_with(app, args, API_KEY, None).await
}

async fn admin_with(app: &TestApp, args: &[&str], key: &str, stdin: Option<&str>) -> Run {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("admin")
        .args(args)
        .env("PARLOR_URL", format!("http://{}", app.addr))
        .env("PARLOR_API_KEY", key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let out = tokio::time::timeout(WAIT * 3, child.wait_with_output()).await.expect("admin command finishes").unwrap();
    let run = Run {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    println!("parlor admin {args:?}: ok={} stdout={:?} stderr={:?}", run.ok, run.stdout, run.stderr);
    run
}

async fn login(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    app.post(None, "/api/auth/token/", json!({"username": username, "password": password})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user_makes_an_account_that_logs_in() {
    let app = TestApp::spawn().await;
    let run = admin_with(
        &app,
        &["create-user", "--username", "alice", "--name", "Alice Admin", "--admin", "--password-stdin"],
        API_KEY,
        Some("correct horse battery\n"),
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let id: i64 = run.stdout.trim().parse().unwrap();

    let (status, body) = login(&app, "alice", "correct horse battery").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["user"]["id"].as_i64(), &body["user"]["name"]), (Some(id), &json!("Alice Admin")));
    let token = body["access"].as_str().unwrap();
    let (status, _) = app.get(Some(token), "/api/admin/reports/").await;
    assert_eq!(status, StatusCode::OK, "--admin made a server admin");

    let again =
        admin_with(&app, &["create-user", "--username", "ALICE", "--password-stdin"], API_KEY, Some("another one\n"))
            .await;
    assert!(!again.ok, "a taken username fails");
    assert!(again.stderr.contains("username is already taken"), "{}", again.stderr);
    let short = admin_with(&app, &["create-user", "--username", "bob", "--password-stdin"], API_KEY, Some("x\n")).await;
    assert!(!short.ok && short.stderr.contains("password"), "the server's password rule: {}", short.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_token_prints_a_token_that_works() {
    let app = TestApp::spawn().await;
    let bob = app.register("bob").await;

    let run = admin(&app, &["issue-token", "@bob", "--ttl", "2h"]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("2h"), "says how long it lives: {}", run.stderr);
    let (status, me) = app.get(Some(run.stdout.trim()), "/api/users/me/").await;
    assert_eq!((status, me["id"].as_i64()), (StatusCode::OK, Some(bob.id)), "{me}");

    let by_id = admin(&app, &["issue-token", &bob.id.to_string()]).await;
    assert!(by_id.ok, "{}", by_id.stderr);
    let (status, _) = app.get(Some(by_id.stdout.trim()), "/api/users/me/").await;
    assert_eq!(status, StatusCode::OK);

    let nobody = admin(&app, &["issue-token", "@nobody"]).await;
    assert!(!nobody.ok && nobody.stderr.contains("not found"), "{}", nobody.stderr);
    let forever = admin(&app, &["issue-token", "@bob", "--ttl", "5years"]).await;
    assert!(!forever.ok && forever.stderr.contains("ttl_secs"), "{}", forever.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_closes_the_users_socket_and_refuses_login_until_enabled() {
    let app = TestApp::spawn().await;
    let carol = app.register("carol").await;
    let mut ws = app.ws(&carol.token).await;

    let run = admin(&app, &["disable", "@carol"]).await;
    assert!(run.ok, "{}", run.stderr);
    let close = ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4003, "{close:?}");
    let (status, body) = login(&app, "carol", "correct horse").await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("account_disabled")), "{body}");
    let token = admin(&app, &["issue-token", "@carol"]).await;
    assert!(!token.ok && token.stderr.contains("disabled"), "no tokens for a disabled user: {}", token.stderr);

    let run = admin(&app, &["enable", &carol.id.to_string()]).await;
    assert!(run.ok, "{}", run.stderr);
    let (status, _) = login(&app, "carol", "correct horse").await;
    assert_eq!(status, StatusCode::OK);
}

/// Alice and Bob's conversation with more messages than one page, a `<script>` and a file.
async fn busy_conversation(app: &TestApp) -> (TestUser, TestUser, i64, usize) {
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    for n in 1..=23 {
        app.send_message(if n % 2 == 0 { &bob } else { &alice }, dm, &format!("message {n}")).await;
    }
    app.send_message(&alice, dm, "<script>alert('pwned')</script> & \"friends\"").await;
    let form = Form::new()
        .text("caption", "the <b>report</b>")
        .part("file", Part::bytes(b"%PDF-1.4\nhello".repeat(100)).file_name("q3 <final>.pdf"));
    let url = app.url(&format!("/api/chat/conversations/{dm}/attachments/"));
    let response = app.http.post(url).bearer_auth(&bob.token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    (alice, bob, dm, 25)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_json_holds_every_message_in_order_across_pages() {
    let app = TestApp::spawn_with(|c| {
        c.limits.page_size_max = 10;
        c.limits.page_size_default = 10;
    })
    .await;
    let (alice, bob, dm, total) = busy_conversation(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");

    let run = admin(&app, &["export", &dm.to_string(), "--format", "json", "-o", file.to_str().unwrap()]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{total} messages")), "{}", run.stderr);
    let export: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(export["conversation"]["id"], dm);
    assert_eq!(export["conversation"]["kind"], "direct");
    let members: Vec<i64> = export["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&alice.id) && members.contains(&bob.id), "{members:?}");
    let messages = export["messages"].as_array().unwrap();
    let seqs: Vec<i64> = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>(), "every message, oldest first, none twice");
    assert_eq!(messages[0]["content"], "message 1");
    assert_eq!(messages[1]["sender_id"], bob.id);
    assert_eq!(messages[24]["attachment"]["name"], "q3 <final>.pdf");
    assert_eq!(messages[24]["content"], "the <b>report</b>", "exactly as sent: escaping is the transcript's job");

    let missing = admin(&app, &["export", "999999"]).await;
    assert!(!missing.ok && missing.stderr.contains("not found"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_html_is_a_readable_transcript_with_everything_escaped() {
    let app = TestApp::spawn_with(|c| {
        c.limits.page_size_max = 10;
        c.limits.page_size_default = 10;
    })
    .await;
    let (_, _, dm, _) = busy_conversation(&app).await;

    let run = admin(&app, &["export", &dm.to_string(), "--format", "html"]).await;
    assert!(run.ok, "{}", run.stderr);
    let html = run.stdout;
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "a whole page");
    assert!(html.contains("&lt;script&gt;alert('pwned')&lt;/script&gt; &amp; \"friends\""), "{html}");
    assert!(!html.contains("<script"), "no user text becomes markup, and the page has no scripts");
    assert!(html.contains("the &lt;b&gt;report&lt;/b&gt;") && !html.contains("<b>"), "captions are escaped too");
    assert!(html.contains("q3 &lt;final&gt;.pdf (1 KB, application/pdf)"), "files listed by name and size: {html}");
    assert!(html.contains("message 1<") && html.contains("message 23<"), "every message is there");
    assert!(html.find("message 1<").unwrap() < html.find("message 23<").unwrap(), "in order");
    assert!(html.contains("alice") && html.contains("bob"), "the members are listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_messages_are_sent_is_a_database_a_server_can_open() {
    if crate::helpers::sqlite_only("backup_while_messages_are_sent_is_a_database_a_server_can_open") {
        return;
    }
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    for n in 1..=5 {
        app.send_message(&alice, dm, &format!("before {n}")).await;
    }
    let restore = tempfile::tempdir().unwrap();
    let target = restore.path().join("parlor.db");

    let sender = {
        let (http, url, token) =
            (app.http.clone(), app.url(&format!("/api/chat/conversations/{dm}/messages/")), bob.token.clone());
        tokio::spawn(async move {
            for n in 1..=100 {
                let response =
                    http.post(&url).bearer_auth(&token).json(&json!({"content": format!("during {n}")})).send();
                assert_eq!(response.await.unwrap().status(), StatusCode::CREATED);
            }
        })
    };
    let run = admin(&app, &["backup", target.to_str().unwrap()]).await;
    sender.await.unwrap();
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), target.to_str().unwrap());
    let size = std::fs::metadata(&target).unwrap().len();
    assert!(run.stderr.contains(&format!("({size} bytes)")), "reports the size: {}", run.stderr);

    let again = admin(&app, &["backup", target.to_str().unwrap()]).await;
    assert!(!again.ok && again.stderr.contains("already exists"), "never overwrites: {}", again.stderr);
    assert_eq!(std::fs::metadata(&target).unwrap().len(), size);
    let nowhere = admin(&app, &["backup", "/nonexistent-dir/parlor.db"]).await;
    assert!(!nowhere.ok && nowhere.stderr.contains("does not exist"), "{}", nowhere.stderr);

    // A second server on the backup sees a consistent history: everything from before, and a
    // gap-free prefix of what was sent meanwhile.
    let restored = TestApp::spawn_at(restore.path(), |_| {}).await;
    let (status, body) = login(&restored, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access"].as_str().unwrap();
    let seqs = history_seqs(&restored, token, dm).await;
    assert!(seqs.len() >= 5, "{seqs:?}");
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");
    restored.stop().await;
    backup_is_in_the_data_dir_for_relative_paths(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_path_no_file_can_have_is_refused_clearly() {
    let app = TestApp::spawn().await;
    for path in ["\u{0}", "nightly\u{0}.db", "night\nly.db"] {
        let (status, body) = app.server(reqwest::Method::POST, "/api/server/backup", json!({"path": path})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path:?}: {body}");
        assert_eq!(body["code"], "validation_failed", "{body}");
        assert!(body["message"].as_str().unwrap().contains("control characters"), "{body}");
    }
    let (status, body) = app.server(reqwest::Method::POST, "/api/server/backup", json!({"path": "after.db"})).await;
    assert_eq!(status, StatusCode::CREATED, "the server carries on: {body}");
}

async fn backup_is_in_the_data_dir_for_relative_paths(app: &TestApp) {
    let run = admin(app, &["backup", "nightly.db"]).await;
    assert!(run.ok, "{}", run.stderr);
    let written = Path::new(run.stdout.trim());
    assert!(written.ends_with("nightly.db") && written.exists(), "{written:?}");
}

/// Message seqs of the whole history, oldest first.
async fn history_seqs(app: &TestApp, token: &str, dm: i64) -> Vec<i64> {
    let (status, page) = app.get(Some(token), &format!("/api/chat/conversations/{dm}/messages/?limit=100")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut seqs: Vec<i64> = page["results"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    seqs.sort_unstable();
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_runs_while_the_server_serves() {
    if crate::helpers::sqlite_only("vacuum_runs_while_the_server_serves") {
        return;
    }
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let sender = {
        let (http, url, token) =
            (app.http.clone(), app.url(&format!("/api/chat/conversations/{dm}/messages/")), bob.token.clone());
        tokio::spawn(async move {
            for n in 1..=60 {
                let response = http.post(&url).bearer_auth(&token).json(&json!({"content": format!("m{n}")})).send();
                assert_eq!(response.await.unwrap().status(), StatusCode::CREATED);
            }
        })
    };
    let run = admin(&app, &["vacuum"]).await;
    sender.await.unwrap();
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("vacuumed"), "{}", run.stderr);
    app.send_message(&alice, dm, "after").await;
    assert_eq!(history_seqs(&app, &alice.token, dm).await, (1..=61).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_api_key_fails_clearly() {
    let app = TestApp::spawn().await;
    let wrong = admin_with(&app, &["vacuum"], "not-the-key", None).await;
    assert!(!wrong.ok);
    assert_eq!(wrong.stderr.trim(), "error: invalid API key (401 unauthorized)", "one line: the server's word");
    let missing = admin_with(&app, &["disable", "@anyone"], "", None).await;
    assert!(!missing.ok && missing.stderr.contains("PARLOR_API_KEY"), "{}", missing.stderr);

    let nowhere = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["admin", "--url", "http://127.0.0.1:9", "--api-key", API_KEY, "vacuum"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&nowhere.stderr);
    assert!(!nowhere.status.success() && stderr.starts_with("error: cannot reach parlor at"), "{stderr}");

    let off = TestApp::spawn_with(|c| c.api_key = parlor_server::config::Secret::default()).await;
    let run = admin(&off, &["vacuum"]).await;
    assert!(!run.ok && run.stderr.contains("server API is disabled"), "{}", run.stderr);
}
