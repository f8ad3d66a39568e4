//! Search end to end: message search never shows anything from a conversation the caller is not
//! in (or, for a former member, anything after they left), follows edits and deletes at once,
//! filters, ranks, pages and highlights safely; bad input gets clear 400s; conversations are
//! found by name.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

// --- private helpers -------------------------------------------------------------------------------

async fn get(app: &TestApp, user: &TestUser, path: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response =
        app.http.get(app.url(path)).bearer_auth(&user.token).query(params).send().await.expect("request reaches");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn search(app: &TestApp, user: &TestUser, params: &[(&str, &str)]) -> (StatusCode, Value) {
    get(app, user, "/api/chat/search/messages/", params).await
}

/// The contents of the messages `user` finds with these parameters, in result order.
async fn found(app: &TestApp, user: &TestUser, params: &[(&str, &str)]) -> Vec<String> {
    let (status, body) = search(app, user, params).await;
    assert_eq!(status, StatusCode::OK, "search {params:?}: {body}");
    body["results"].as_array().unwrap().iter().map(|r| r["message"]["content"].as_str().unwrap().to_owned()).collect()
}

async fn conversations(app: &TestApp, user: &TestUser, q: &str) -> Vec<i64> {
    let (status, body) = get(app, user, "/api/chat/search/conversations/", &[("q", q)]).await;
    assert_eq!(status, StatusCode::OK, "search conversations {q:?}: {body}");
    body["results"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn room(owner: &TestUser, title: &str, members: &[&TestUser]) -> i64 {
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let (status, body) = owner.post("/api/chat/rooms/", json!({"title": title, "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "create room: {body}");
    body["id"].as_i64().unwrap()
}

async fn upload(app: &TestApp, user: &TestUser, conversation: i64, bytes: Vec<u8>, name: &str, caption: &str) {
    let form =
        Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned())).text("caption", caption.to_owned());
    let url = app.url(&format!("/api/chat/conversations/{conversation}/attachments/"));
    let response = app.http.post(url).bearer_auth(&user.token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "upload {name}");
}

fn png() -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([200, 10, 10, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Stored times have millisecond precision: a pause makes "later" strictly later.
async fn let_the_clock_tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Query parameters as name and value.
type Params<'a> = &'a [(&'a str, &'a str)];

#[track_caller]
fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, what: &str) {
    assert_eq!((got.0.as_u16(), got.1["code"].as_str()), (status, Some(code)), "{what}: {}", got.1);
}

// --- who sees what ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_never_reveals_messages_outside_the_callers_conversations() {
    let app = TestApp::spawn().await;
    let [alice, bob, carol, dave, eve] = [
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
        app.register("dave").await,
        app.register("eve").await,
    ];
    let ab = app.dm(&alice, &bob).await;
    let cd = app.dm(&carol, &dave).await;
    app.send_message(&alice, ab, "the launch code is 1234").await;
    app.send_message(&carol, cd, "launch party on friday").await;

    assert_eq!(found(&app, &alice, &[("q", "launch")]).await, ["the launch code is 1234"]);
    assert_eq!(found(&app, &bob, &[("q", "launch")]).await, ["the launch code is 1234"]);
    assert_eq!(found(&app, &carol, &[("q", "launch")]).await, ["launch party on friday"]);
    assert_eq!(found(&app, &dave, &[("q", "launch code")]).await, Vec::<String>::new());
    assert_eq!(found(&app, &eve, &[("q", "launch")]).await, Vec::<String>::new(), "no conversations, no results");

    let foreign = search(&app, &carol, &[("q", "launch"), ("conversation_id", &ab.to_string())]).await;
    let missing = search(&app, &carol, &[("q", "launch"), ("conversation_id", "999999")]).await;
    assert_error(&foreign, 404, "not_found", "someone else's conversation");
    assert_eq!(foreign, missing, "someone else's conversation answers exactly like a missing one");
    let alice_id = alice.id.to_string();
    let by_alice = [("q", "launch"), ("sender_id", alice_id.as_str())];
    assert_eq!(found(&app, &carol, &by_alice).await, Vec::<String>::new(), "a sender filter widens nothing");
    assert_eq!(conversations(&app, &carol, "alice").await, Vec::<i64>::new(), "nor does a name search");

    let anonymous = app.get(None, "/api/chat/search/messages/?q=launch").await;
    assert_error(&anonymous, 401, "unauthorized", "search needs a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn former_members_find_messages_only_up_to_their_departure() {
    let app = TestApp::spawn().await;
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let team = room(&alice, "Budget team", &[&bob, &carol]).await;
    app.send_message(&bob, team, "budget draft one").await;
    let (status, _) = alice.delete(&format!("/api/chat/conversations/{team}/members/{}/", carol.id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.send_message(&alice, team, "budget final version").await;

    let mut everything = found(&app, &bob, &[("q", "budget")]).await;
    everything.sort();
    assert_eq!(everything, ["budget draft one", "budget final version"]);
    assert_eq!(found(&app, &carol, &[("q", "budget")]).await, ["budget draft one"], "up to the removal only");
    let team_id = team.to_string();
    let scoped = [("q", "budget"), ("conversation_id", team_id.as_str())];
    assert_eq!(found(&app, &carol, &scoped).await, ["budget draft one"], "naming the room she left works too");
    assert_eq!(found(&app, &carol, &[("q", "removed")]).await, Vec::<String>::new(), "system messages never match");
    assert_eq!(conversations(&app, &carol, "budget").await, [team], "she still finds the room by name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletes_change_search_results_at_once() {
    let app = TestApp::spawn().await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let ab = app.dm(&alice, &bob).await;
    let sent = app.send_message(&alice, ab, "meet at the old cafe").await;
    let id = sent["id"].as_i64().unwrap();
    assert_eq!(found(&app, &bob, &[("q", "old cafe")]).await, ["meet at the old cafe"]);

    let (status, _) = app
        .patch(Some(&alice.token), &format!("/api/chat/messages/{id}/"), json!({"content": "meet at the new place"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found(&app, &bob, &[("q", "old")]).await, Vec::<String>::new(), "the old words are gone at once");
    let (_, body) = search(&app, &bob, &[("q", "new")]).await;
    assert_eq!(body["results"][0]["message"]["id"], id);
    assert_eq!(body["results"][0]["highlight"], "meet at the <mark>new</mark> place");

    let (status, _) = alice.delete(&format!("/api/chat/messages/{id}/")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(found(&app, &bob, &[("q", "new place")]).await, Vec::<String>::new(), "deleted messages never match");
}

// --- filters, ranking, pages, highlights -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_by_conversation_sender_time_and_attachment() {
    let app = TestApp::spawn().await;
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let ab = app.dm(&alice, &bob).await;
    let ac = app.dm(&alice, &carol).await;
    let one = app.send_message(&alice, ab, "report one").await;
    let_the_clock_tick().await;
    app.send_message(&bob, ab, "report two").await;
    let_the_clock_tick().await;
    let three = app.send_message(&carol, ac, "report three").await;
    upload(&app, &alice, ab, b"%PDF-1.4\nnot much of a pdf".to_vec(), "q3.pdf", "report pdf").await;
    upload(&app, &carol, ac, png(), "chart.png", "report photo").await;

    let (app, alice) = (&app, &alice);
    let with = |extra: (&'static str, String)| async move {
        let mut got = found(app, alice, &[("q", "report"), (extra.0, &extra.1)]).await;
        got.sort();
        got
    };
    assert_eq!(with(("conversation_id", ac.to_string())).await, ["report photo", "report three"]);
    assert_eq!(with(("sender_id", bob.id.to_string())).await, ["report two"]);
    assert_eq!(with(("has", "attachment".into())).await, ["report pdf", "report photo"]);
    assert_eq!(with(("has", "image".into())).await, ["report photo"]);
    assert_eq!(with(("has", "file".into())).await, ["report pdf"]);
    assert_eq!(with(("has", "voice".into())).await, Vec::<String>::new());
    let after = one["created_at"].as_str().unwrap();
    let before = three["created_at"].as_str().unwrap();
    let between = [("q", "report"), ("after", after), ("before", before)];
    assert_eq!(found(app, alice, &between).await, ["report two"], "after and before are exclusive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_ranked_paged_and_highlighted_safely() {
    let app = TestApp::spawn().await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let ab = app.dm(&alice, &bob).await;
    app.send_message(&alice, ab, "the sink is in the kitchen, next to the big window by the door").await;
    app.send_message(&bob, ab, "<script>alert('sink')</script>").await;
    app.send_message(&alice, ab, "sink sink sink").await;
    app.send_message(&bob, ab, "Café crème brûlée").await;

    let (status, first) = search(&app, &bob, &[("q", "sink"), ("limit", "2")]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["message"]["content"], "sink sink sink", "the best match first");
    assert_eq!((first["has_more"].clone(), first["next_offset"].clone()), (json!(true), json!(2)));
    let (_, second) = search(&app, &bob, &[("q", "sink"), ("limit", "2"), ("offset", "2")]).await;
    assert_eq!(second["results"].as_array().unwrap().len(), 1);
    assert_eq!((second["has_more"].clone(), second["next_offset"].clone()), (json!(false), Value::Null));

    let (_, history) = bob.get(&format!("/api/chat/conversations/{ab}/messages/")).await;
    let script =
        history["results"].as_array().unwrap().iter().find(|m| m["content"] == "<script>alert('sink')</script>");
    let all = found(&app, &bob, &[("q", "sink"), ("limit", "100")]).await;
    assert_eq!(all.len(), 3);
    let (_, body) = search(&app, &bob, &[("q", "alert")]).await;
    let hit = &body["results"][0];
    assert_eq!(Some(&hit["message"]), script, "a hit's message is exactly what history shows");
    assert_eq!(hit["conversation_id"], ab);
    assert_eq!(hit["highlight"], "&lt;script&gt;<mark>alert</mark>(&#39;sink&#39;)&lt;/script&gt;", "escaped, marked");

    assert_eq!(found(&app, &bob, &[("q", "cafe CREME")]).await, ["Café crème brûlée"], "case and accents ignored");
    let (_, body) = search(&app, &bob, &[("q", "brul")]).await;
    assert_eq!(body["results"][0]["highlight"], "Café crème <mark>brûlée</mark>", "prefixes; text as written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_pages_on_unshifted_by_new_messages() {
    let app = TestApp::spawn().await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let ab = app.dm(&alice, &bob).await;
    for text in ["pager one", "pager two", "pager three", "pager four", "pager five"] {
        app.send_message(&alice, ab, text).await;
    }
    let (status, first) = search(&app, &bob, &[("q", "pager"), ("limit", "2")]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["next_offset"], json!(2), "asked for by offset, it says the next offset too");
    app.send_message(&alice, ab, "pager six, sent after the first page").await;
    let mut seen: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        seen.extend(
            page["results"].as_array().unwrap().iter().map(|r| r["message"]["content"].as_str().unwrap().to_owned()),
        );
        let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) else { break };
        assert_eq!(page["has_more"], json!(true));
        let (status, next) = search(&app, &bob, &[("q", "pager"), ("limit", "2"), ("cursor", &cursor)]).await;
        assert_eq!(status, StatusCode::OK, "{next}");
        page = next;
        assert!(page["next_offset"].is_null() && seen.len() < 10, "a cursor's pages say only their cursor");
    }
    seen.sort();
    assert_eq!(seen, ["pager five", "pager four", "pager one", "pager three", "pager two"], "each once, none later");

    for (params, mentions) in [
        (&[("q", "pager"), ("cursor", "lots")][..], "cursor"),
        (&[("q", "pager"), ("cursor", "9.0"), ("offset", "2")][..], "offset"),
        // A skip past one window is no cursor a search returns, and would read without bound.
        (&[("q", "pager"), ("cursor", "9.200")][..], "cursor"),
        (&[("q", "pager"), ("cursor", "9.4294967295")][..], "cursor"),
    ] {
        let got = search(&app, &bob, params).await;
        assert_error(&got, 400, "invalid_body", &format!("{params:?}"));
        assert!(got.1["message"].as_str().unwrap().contains(mentions), "{params:?}: {}", got.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_search_input_is_a_clear_400_and_query_syntax_is_just_text() {
    let app = TestApp::spawn().await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let ab = app.dm(&alice, &bob).await;
    app.send_message(&alice, ab, "plain words here").await;

    let long = "x".repeat(201);
    let many = vec!["word"; 17].join(" ");
    let cases: [(Params, &str, &str); 12] = [
        (&[], "validation_failed", "q"),
        (&[("q", "   ")], "validation_failed", "q"),
        (&[("q", &long)], "validation_failed", "200"),
        (&[("q", &many)], "validation_failed", "16"),
        (&[("q", "x"), ("after", "yesterday")], "invalid_body", "after"),
        (&[("q", "x"), ("before", "2025-13-01T00:00:00Z")], "invalid_body", "before"),
        (&[("q", "x"), ("has", "banana")], "invalid_body", "has"),
        (&[("q", "x"), ("limit", "lots")], "invalid_body", ""),
        (&[("q", "x"), ("conversation_id", "abc")], "invalid_body", ""),
        (&[("q", "x"), ("offset", "-1")], "invalid_body", ""),
        (&[("q", "x"), ("offset", "1001")], "validation_failed", "offset"),
        (&[("q", "x"), ("offset", "4294967295")], "validation_failed", "next_cursor"),
    ];
    for (params, code, mentions) in cases {
        let got = search(&app, &alice, params).await;
        assert_error(&got, 400, code, &format!("{params:?}"));
        assert!(got.1["message"].as_str().unwrap().contains(mentions), "{params:?}: {}", got.1);
    }
    let blank = get(&app, &alice, "/api/chat/search/conversations/", &[("q", " ")]).await;
    assert_error(&blank, 400, "validation_failed", "a blank conversation search");

    for syntax in ["\"", "*", "plain OR nothing", "NEAR(plain", "-plain", "content:plain", "^", "(", ")", "NOT", "'"] {
        let (status, body) = search(&app, &alice, &[("q", syntax)]).await;
        assert_eq!(status, StatusCode::OK, "{syntax:?} is searched as text: {body}");
    }
    assert_eq!(found(&app, &alice, &[("q", "\"plain\" words")]).await, ["plain words here"], "quotes are ignored");
    assert_eq!(found(&app, &alice, &[("q", "plain OR nothing")]).await, Vec::<String>::new(), "OR is a word");
    assert_eq!(
        found(&app, &alice, &[("q", "plain"), ("limit", "0")]).await.len(),
        1,
        "limits are clamped, not refused"
    );
}

// --- conversations by name ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_found_by_title_context_or_the_other_persons_name() {
    let app = TestApp::spawn().await;
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let (status, _) = bob.patch("/api/users/me", json!({"name": "Robert Émile"})).await;
    assert_eq!(status, StatusCode::OK);
    let with_bob = app.dm(&alice, &bob).await;
    let crew = room(&alice, "Kitchen crew", &[&carol]).await;
    let (status, job) = app
        .put(
            Some(&alice.token),
            "/api/chat/conversations/by-context/job/42/",
            json!({"members": [bob.id], "title": "Fix the kitchen sink"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let job = job["id"].as_i64().unwrap();
    let exact = room(&alice, "KITCHEN", &[&bob]).await;

    assert_eq!(conversations(&app, &alice, "kitchen").await, [exact, crew, job], "whole name, start, then a word");
    assert_eq!(conversations(&app, &alice, "ÉMILE").await, [job, with_bob], "direct ones by the other's name");
    assert_eq!(conversations(&app, &alice, "bob").await, [job, with_bob], "or username");
    assert_eq!(conversations(&app, &alice, "alice").await, Vec::<i64>::new(), "never by the caller's own name");
    assert_eq!(conversations(&app, &carol, "kitchen").await, [crew], "only the caller's conversations");

    let (_, body) = get(&app, &carol, "/api/chat/search/conversations/", &[("q", "crew")]).await;
    let (_, direct) = carol.get(&format!("/api/chat/conversations/{crew}/")).await;
    assert_eq!(body["results"][0], direct, "each result is the conversation as GET shows it");
}
