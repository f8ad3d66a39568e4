//! Email against a real mail server (`email/smtp_server.py`, Python's aiosmtpd): who gets a
//! mail and when (after the delay, not after a read, one per conversation per delay), what it
//! holds (recipients, subject, text and HTML parts, the link, the RFC 8058 headers), one-click
//! unsubscribe, the rules that keep mail back (email off, mute, block, focus, also when made
//! during the delay) or hold it (quiet hours), and failures.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::helpers::{TestApp, TestUser, WAIT};

const PUBLIC_URL: &str = "https://chat.parlor.test";
const SETTINGS: &str = "/api/users/me/notification-settings";

/// The mail server of `email/smtp_server.py`.
struct MailServer {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl MailServer {
    async fn start() -> MailServer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/email/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the mail server (pip install aiosmtpd)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line()).await.expect("mail server starts").unwrap();
        let hello: Value = serde_json::from_str(&first.expect("a first line")).unwrap();
        MailServer { _child: child, lines, port: u16::try_from(hello["port"].as_u64().unwrap()).unwrap() }
    }

    /// The next mail the server accepted, as it reported it.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line()).await.expect("a mail arrives in time").unwrap();
        serde_json::from_str(&line.expect("the mail server is running")).unwrap()
    }
}

async fn app_with_email(server: &MailServer, delay_minutes: f64) -> TestApp {
    let port = server.port;
    TestApp::spawn_with(move |c| {
        c.email.smtp_url = parlor_server::config::Secret::new(format!("smtp://127.0.0.1:{port}"));
        c.email.from = "parlor <parlor@parlor.test>".into();
        c.email.public_url = format!("{PUBLIC_URL}/");
        c.email.delay_minutes = delay_minutes;
    })
    .await
}

async fn with_address(app: &TestApp, name: &str, address: &str) -> TestUser {
    let user = app.register(name).await;
    let (status, body) = user.patch("/api/users/me/", json!({"email": address})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    user
}

fn recipients(mail: &Value) -> Vec<&str> {
    mail["rcpt_tos"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect()
}

/// Sends `from` a message to `sentinel` in `conversation` and asserts the next mail is theirs:
/// anything kept back before it would have been due first. The sentinel then reads it, so their
/// next notification is a fresh one, due a whole delay later.
async fn sentinel(
    app: &TestApp,
    server: &mut MailServer,
    from: &TestUser,
    sentinel: &TestUser,
    conversation: i64,
    why: &str,
) {
    app.send_message(from, conversation, "sentinel").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), [format!("{}@example.com", sentinel.username)], "{why}: {mail}");
    let read = format!("/api/chat/conversations/{conversation}/mark_read/");
    assert_eq!(sentinel.post(&read, json!({})).await.0, StatusCode::OK);
}

/// Waits until `/metrics` counts each of `outcomes` (`("sent", 2)`) in `parlor_emails_total`:
/// the mailer counts a mail once the server has answered, a moment after the test saw it.
async fn counted(app: &TestApp, outcomes: &[(&str, u32)]) {
    let wanted: Vec<String> =
        outcomes.iter().map(|(outcome, n)| format!("parlor_emails_total{{outcome=\"{outcome}\"}} {n}")).collect();
    let what = format!("{wanted:?}");
    crate::helpers::eventually(WAIT, &what, || async {
        let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        wanted.iter().all(|w| text.lines().any(|line| line == w))
    })
    .await;
}

#[tokio::test]
async fn an_unread_message_is_mailed_after_the_delay_with_both_parts_a_link_and_one_click_unsubscribe() {
    let mut server = MailServer::start().await;
    let delay = Duration::from_millis(1200);
    let app = app_with_email(&server, 0.02).await;
    let (alice, carol) = (app.register("alice").await, app.register("carol").await);
    let bob = with_address(&app, "bob", "bob@example.com").await;
    let (to_carol, dm) = (app.dm(&alice, &carol).await, app.dm(&alice, &bob).await);

    // Carol has no address: her message comes first, and the first mail is bob's.
    app.send_message(&alice, to_carol, "carol has no address").await;
    let sent = Instant::now();
    app.send_message(&alice, dm, "are you free on <b>Tuesday</b> & \"later\"?").await;
    let mail = server.next().await;
    assert!(sent.elapsed() >= delay, "mailed only after the delay, not after {:?}", sent.elapsed());
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    assert_eq!(mail["mail_from"], "parlor@parlor.test");
    let headers = &mail["headers"];
    assert!(headers["to"].as_str().unwrap().contains("bob@example.com"), "{headers}");
    assert_eq!(headers["from"], "parlor <parlor@parlor.test>");
    assert_eq!(headers["subject"], "New message from alice");
    assert_eq!(mail["parts"], json!(["multipart/alternative", "text/plain", "text/html"]));

    let link = format!("{PUBLIC_URL}/#/c/{dm}");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("are you free on <b>Tuesday</b> & \"later\"?"), "the text part as written: {text}");
    assert!(text.contains(&link), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains("are you free on &lt;b&gt;Tuesday&lt;/b&gt; &amp; \"later\"?"), "escaped: {html}");
    assert!(!html.contains("<b>Tuesday"), "{html}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");

    let unsubscribe = headers["list-unsubscribe"].as_str().unwrap();
    let prefix = format!("<{PUBLIC_URL}/api/email/unsubscribe?token=");
    assert!(unsubscribe.starts_with(&prefix) && unsubscribe.ends_with('>'), "{unsubscribe}");
    assert_eq!(headers["list-unsubscribe-post"], "List-Unsubscribe=One-Click");
    let token = &unsubscribe[prefix.len()..unsubscribe.len() - 1];
    assert!(text.contains(token) && html.contains(token), "the footer links to it too");

    // The link's page only shows a button: a scanner fetching it unsubscribes nobody.
    let path = format!("/api/email/unsubscribe?token={token}");
    let page = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("method=\"post\""), "{page}");
    assert_eq!(bob.get(SETTINGS).await.1["email"], true, "GET changes nothing");

    // A forged token: the signature changed, or another user's id on bob's signature.
    let (id, signature) = token.split_once('.').unwrap();
    let flipped = if signature.ends_with('A') { "B" } else { "A" };
    let forged = [format!("{id}.{}{flipped}", &signature[..signature.len() - 1]), format!("{}.{signature}", alice.id)];
    for token in forged {
        let (status, body) = app.post_raw(None, &format!("/api/email/unsubscribe?token={token}"), "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}: {body}");
        assert!(body["message"].as_str().unwrap().contains("not a valid unsubscribe link"), "{body}");
    }
    assert_eq!(alice.get(SETTINGS).await.1["email"], true, "alice keeps her email");

    // One click, as a mail client sends it (RFC 8058).
    let clicked = app
        .http
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    assert_eq!(bob.get(SETTINGS).await.1["email"], false, "email is off for bob");

    // Email off: bob's next message is not mailed; dave's, sent after it, is the next mail.
    let dave = with_address(&app, "dave", "dave@example.com").await;
    let to_dave = app.dm(&alice, &dave).await;
    app.send_message(&alice, dm, "bob turned email off").await;
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob's was kept back").await;
    counted(&app, &[("sent", 2), ("skipped", 1)]).await;
}

#[tokio::test]
async fn a_read_within_the_delay_sends_nothing_and_a_conversation_gets_one_mail_per_delay() {
    let mut server = MailServer::start().await;
    let delay = Duration::from_secs(3);
    let app = app_with_email(&server, 0.05).await;
    let alice = app.register("alice").await;
    let bob = with_address(&app, "bob", "bob@example.com").await;
    let dave = with_address(&app, "dave", "dave@example.com").await;
    let (dm, to_dave) = (app.dm(&alice, &bob).await, app.dm(&alice, &dave).await);

    // Read within the delay (once its notification exists: they are made in the background):
    // no mail. Dave's, sent after it, is the first.
    app.send_message(&alice, dm, "read me now").await;
    crate::helpers::eventually(WAIT, "a notification for bob", || async {
        bob.get("/api/notifications/unread_count/").await.1["unread_count"] == 1
    })
    .await;
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob read his within the delay").await;

    // Two messages: one mail about both, then nothing for bob before dave's next.
    app.send_message(&alice, dm, "first").await;
    app.send_message(&alice, dm, "second").await;
    app.send_message(&alice, to_dave, "sentinel").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    assert_eq!(mail["headers"]["subject"], "2 new messages from alice");
    assert!(mail["text"].as_str().unwrap().contains("second"), "{mail}");
    let first_mail = Instant::now();
    assert_eq!(recipients(&server.next().await), ["dave@example.com"], "one mail for bob's two messages");

    // Still unread, a third message: mailed, but only a delay after the last mail.
    app.send_message(&alice, dm, "third").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    // (The window opened when the mail was claimed, a moment before it arrived here.)
    assert!(
        first_mail.elapsed() >= delay - Duration::from_millis(500),
        "one mail per conversation per delay, not after {:?}",
        first_mail.elapsed()
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("third") && !text.contains("first"), "only what the last mail did not cover: {text}");
}

#[tokio::test]
async fn quiet_hours_hold_mail_until_they_end_and_mute_keeps_it_back() {
    let mut server = MailServer::start().await;
    let app = app_with_email(&server, 0.02).await;
    let alice = app.register("alice").await;
    let bob = with_address(&app, "bob", "bob@example.com").await;
    let dave = with_address(&app, "dave", "dave@example.com").await;
    let (dm, to_dave) = (app.dm(&alice, &bob).await, app.dm(&alice, &dave).await);

    // Quiet hours around now (in Tokyo, whatever the time): the inbox fills, nothing is mailed
    // while they last.
    let tokyo = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    let hh_mm = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%H:%M").to_string();
    let quiet = json!({"start": hh_mm(tokyo - chrono::Duration::hours(1)), "end": hh_mm(tokyo + chrono::Duration::hours(1)), "time_zone": "Asia/Tokyo"});
    let (status, _) = bob.patch(SETTINGS, json!({"quiet_hours": quiet})).await;
    assert_eq!(status, StatusCode::OK);
    app.send_message(&alice, dm, "in quiet hours").await;
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob's came during quiet hours").await;
    let (_, inbox) = bob.get("/api/notifications/").await;
    assert!(inbox["unread_count"].as_i64().unwrap() >= 1, "the inbox still fills: {inbox}");
    // Their end (cleared here, nothing read): the held mail goes out.
    let (status, _) = bob.patch(SETTINGS, json!({"quiet_hours": null})).await;
    assert_eq!(status, StatusCode::OK);
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "held during quiet hours, mailed after: {mail}");
    assert!(mail["text"].as_str().unwrap().contains("in quiet hours"), "{mail}");
    bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;

    // Muted.
    bob.post(&format!("/api/chat/conversations/{dm}/mute/"), json!({})).await;
    app.send_message(&alice, dm, "while muted").await;
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob muted the conversation").await;
    bob.post(&format!("/api/chat/conversations/{dm}/unmute/"), json!({})).await;

    // And after all that, bob's next message is mailed.
    app.send_message(&alice, dm, "now you hear me").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    assert!(mail["text"].as_str().unwrap().contains("now you hear me"), "{mail}");
}

/// Waits until `user` has `n` unread notifications (they are made in the background).
async fn unread(user: &TestUser, n: i64) {
    crate::helpers::eventually(WAIT, &format!("{n} unread for {}", user.username), || async {
        user.get("/api/notifications/unread_count/").await.1["unread_count"] == n
    })
    .await;
}

#[tokio::test]
async fn a_mute_or_block_made_during_the_delay_stops_the_waiting_mail_but_a_mention_still_goes() {
    let mut server = MailServer::start().await;
    let app = app_with_email(&server, 0.05).await;
    let alice = app.register("alice").await;
    let bob = with_address(&app, "bob", "bob@example.com").await;
    let dave = with_address(&app, "dave", "dave@example.com").await;
    let (dm, to_dave) = (app.dm(&alice, &bob).await, app.dm(&alice, &dave).await);

    // Made before the mute, muted before the delay passed: not mailed.
    app.send_message(&alice, dm, "muted later").await;
    unread(&bob, 1).await;
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mute/"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob muted the conversation during the delay").await;

    // Muted, a mention still counts: mailed, with only the mention in it.
    app.send_message(&alice, dm, "@bob this one matters").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("this one matters") && !text.contains("muted later"), "{text}");
    bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;

    // Blocked before the delay passed: not mailed.
    let room = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    unread(&bob, 1).await; // added to the room
    app.send_message(&alice, room, "blocked later").await;
    unread(&bob, 2).await;
    let (status, _) = bob.post(&format!("/api/chat/users/{}/block/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob blocked alice during the delay").await;
    counted(&app, &[("sent", 3), ("skipped", 2)]).await;
}

#[tokio::test]
async fn a_block_or_the_conversation_on_screen_keeps_mail_back() {
    let mut server = MailServer::start().await;
    let app = app_with_email(&server, 0.02).await;
    let alice = app.register("alice").await;
    let bob = with_address(&app, "bob", "bob@example.com").await;
    let dave = with_address(&app, "dave", "dave@example.com").await;
    let to_dave = app.dm(&alice, &dave).await;
    let room = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();

    // Bob blocked alice: her message in their room is no notification, so no mail.
    let block = format!("/api/chat/users/{}/block/", alice.id);
    let (status, _) = bob.post(&block, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.send_message(&alice, room, "@bob across a block").await;
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob blocked alice").await;
    assert_eq!(bob.delete(&block).await.0, StatusCode::NO_CONTENT);

    // Bob's open app shows the room: a mention there is no mail.
    let mut bob_ws = app.ws(&bob.token).await;
    bob_ws.send(json!({"type": "focus", "conversation_id": room})).await;
    bob_ws.send(json!({"type": "ping"})).await;
    while bob_ws.next().await["type"] != "pong" {}
    app.send_message(&alice, room, "@bob on screen").await;
    sentinel(&app, &mut server, &alice, &dave, to_dave, "bob was looking at the room").await;

    // Looking elsewhere (the app still open): the next mention is mailed.
    bob_ws.send(json!({"type": "focus", "conversation_id": null})).await;
    bob_ws.send(json!({"type": "ping"})).await;
    while bob_ws.next().await["type"] != "pong" {}
    app.send_message(&alice, room, "@bob and now?").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["bob@example.com"], "{mail}");
    assert!(mail["text"].as_str().unwrap().contains("and now?"), "{mail}");
}

#[tokio::test]
async fn a_refused_address_is_given_up_a_temporary_failure_retried_and_neither_blocks_others() {
    let mut server = MailServer::start().await;
    let app = app_with_email(&server, 0.02).await;
    let alice = app.register("alice").await;
    let bounce = with_address(&app, "bounce", "bounce@example.com").await;
    let flaky = with_address(&app, "flaky", "flaky@example.com").await;
    let good = with_address(&app, "good", "good@example.com").await;
    for user in [&bounce, &flaky, &good] {
        let dm = app.dm(&alice, user).await;
        app.send_message(&alice, dm, "hello").await;
    }
    let mut delivered = [server.next().await, server.next().await];
    delivered.sort_by_key(|m| m["rcpt_tos"].to_string());
    let delivered: Vec<_> = delivered.iter().map(recipients).collect();
    assert_eq!(delivered, [["flaky@example.com"], ["good@example.com"]], "the refused address blocks nobody");
    counted(&app, &[("failed", 1), ("retried", 1), ("sent", 2)]).await;
}

#[tokio::test]
async fn a_platform_users_address_comes_from_the_email_claim_of_their_token() {
    const PLATFORM_SECRET: &str = "platform-signing-secret-0123456789abcdef";
    let mut server = MailServer::start().await;
    let port = server.port;
    let app = TestApp::spawn_with(move |c| {
        c.email.smtp_url = parlor_server::config::Secret::new(format!("smtp://127.0.0.1:{port}"));
        c.email.from = "parlor <parlor@parlor.test>".into();
        c.email.public_url = format!("{PUBLIC_URL}/");
        c.email.delay_minutes = 0.01;
        c.jwt_secret = parlor_server::config::Secret::new(PLATFORM_SECRET);
    })
    .await;
    let token_with = |email: &str| {
        let claims = json!({"sub": "erin-7", "name": "Erin", "email": email, "exp": crate::helpers::unix_now() + 600});
        crate::helpers::sign(jsonwebtoken::Algorithm::HS256, PLATFORM_SECRET, &claims)
    };
    let (status, me) = app.get(Some(&token_with("erin@platform.test")), "/api/users/me").await;
    assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some("erin@platform.test")), "{me}");
    // A later token with another address moves her mail there; one that could smuggle a header
    // in is not taken.
    let erin = app.signed_in(me["id"].as_i64().unwrap(), &token_with("erin@new.test"));
    assert_eq!(erin.get("/api/users/me").await.1["email"], "erin@new.test");
    let (_, me) = app.get(Some(&token_with("erin@new.test\r\nBcc: mallory@evil.test")), "/api/users/me").await;
    assert_eq!(me["email"], "erin@new.test", "{me}");

    let alice = app.register("alice").await;
    let dm = app.dm(&alice, &erin).await;
    app.send_message(&alice, dm, "the keys are under the mat").await;
    let mail = server.next().await;
    assert_eq!(recipients(&mail), ["erin@new.test"], "{mail}");
}
