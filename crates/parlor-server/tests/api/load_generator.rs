//! `parlor-bench`, the load generator, against a real server: its reports must say what really
//! happened (every figure in docs/benchmarks.md comes from them). Short, slow loads: these check
//! the counting, never the speed.

use parlor_bench::fixture::Fixture;
use parlor_bench::{Protocol, Target, idle, load, ramp, requests};
use parlor_server::config::Secret;
use parlor_server::rate_limit::Rate;

use crate::helpers::TestApp;

const SECRET: &str = "bench-secret-0123456789abcdef0123456789";

async fn bench_server(tweak: impl FnOnce(&mut parlor_server::config::Config)) -> (TestApp, Target) {
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = Secret::new(SECRET);
        c.rate_limits.sends = Rate::OFF;
        c.rate_limits.connects = Rate::OFF;
        tweak(c);
    })
    .await;
    let target = Target { url: app.url(""), jwt_secret: SECRET.into(), server_pid: None, user_prefix: "lg".into() };
    (app, target)
}

fn settings(protocol: Protocol) -> load::Settings {
    load::Settings { payload: 100, protocol, stalled: 0.0, last_member: true }
}

/// Messages stored in a conversation, as its history says.
async fn stored(app: &TestApp, fixture: &Fixture, conversation: usize) -> usize {
    let c = &fixture.conversations[conversation];
    let (_, page) =
        app.get(Some(&c.members[0].token), &format!("/api/chat/conversations/{}/messages?limit=100", c.id)).await;
    // The load's messages only (a room also has its own "created" notice).
    let results = page["results"].as_array().unwrap();
    results.iter().filter(|m| m["content"].as_str().is_some_and(|c| c.get(20..21) == Some("|"))).count()
}

#[tokio::test]
async fn a_load_reports_every_message_acknowledged_stored_and_delivered_to_every_member() {
    let (app, target) = bench_server(|_| {}).await;
    let fixture = Fixture::create(&target, 3, 4, 0).await.unwrap();
    let report = load::run(&target, &fixture, settings(Protocol::Parlor), 60.0, 1.0).await.unwrap();

    assert_eq!(report.sockets, 12);
    assert_eq!((report.sent, report.acknowledged, report.errors, report.backlogged), (60, Some(60), 0, 0));
    assert_eq!(report.expected, 60 * 4, "every member (the sender too) gets every message of its room");
    assert_eq!((report.delivered, report.lost), (report.expected, 0));
    assert_eq!(report.latency.count, report.delivered);
    let last = report.last_member.unwrap();
    assert_eq!(last.count, 60, "one slowest delivery per message");
    assert!(last.p99 >= report.latency.p50 && report.latency.max > 0.0);
    // Round-robin over rooms: 20 each, and the server kept them all.
    for room in 0..3 {
        assert_eq!(stored(&app, &fixture, room).await, 20);
    }
}

#[tokio::test]
async fn the_seed_001_protocol_is_counted_without_acknowledgements() {
    let (app, target) = bench_server(|_| {}).await;
    let fixture = Fixture::create(&target, 2, 2, 0).await.unwrap();
    // The same file format as the Django peer's `make_fixture`, read back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.json");
    fixture.write(&path).unwrap();
    let fixture = Fixture::read(&path).unwrap();
    assert!(fixture.ws_url.ends_with("/ws/chat/{conversation_id}/?token={token}"));

    let report = load::run(&target, &fixture, settings(Protocol::Seed001), 40.0, 1.0).await.unwrap();
    assert_eq!((report.sent, report.acknowledged, report.errors), (40, None, 0));
    assert_eq!((report.expected, report.delivered, report.lost), (80, 80, 0));
    assert_eq!(stored(&app, &fixture, 0).await + stored(&app, &fixture, 1).await, 40);
}

#[tokio::test]
async fn a_ramp_keeps_its_sockets_and_stops_at_the_first_failing_step() {
    let (_app, target) = bench_server(|_| {}).await;
    let fixture = Fixture::create(&target, 2, 3, 0).await.unwrap();
    let mut session = load::Session::open(&target, &fixture, settings(Protocol::Parlor)).await.unwrap();

    let easy = ramp::Settings { rates: vec![20.0, 40.0], step_secs: 0.5, p99_bound_ms: 10_000.0 };
    let report = ramp::run(&mut session, &easy).await.unwrap();
    assert!(report.steps.iter().all(|s| s.passed), "{report}");
    assert_eq!(report.highest_rate, Some(40.0));
    // Each step counts only its own messages.
    assert_eq!(report.steps[1].report.sent, 20);
    assert_eq!(report.steps[1].report.delivered, 20 * 3);

    let impossible = ramp::Settings { rates: vec![20.0, 40.0], step_secs: 0.5, p99_bound_ms: 0.0 };
    let report = ramp::run(&mut session, &impossible).await.unwrap();
    assert_eq!(report.steps.len(), 1, "stops after the first failure");
    assert!(report.steps[0].failure.as_deref().unwrap().starts_with("p99"), "{report}");
    assert_eq!(report.highest_rate, None);
    assert!(session.close().await.is_empty(), "no stalled clients, none cut off");
}

// Two threads: on the default single one, server and generator take turns, and a reader that
// waits its turn for long enough is (rightly) cut off too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_are_reported_cut_off_with_the_slow_consumer_code_and_nobody_else_loses_anything() {
    // The default queue (512 events). The stalled reader (a 16 KiB receive window) is cut off once
    // the kernel's buffers for its socket (a few MB) and its queue are full; the others may fall
    // 5 s behind before that could happen to them, which a loaded test machine never does.
    let (_app, target) = bench_server(|c| c.sqlite_durability = parlor_server::config::SqliteDurability::Normal).await;
    let fixture = Fixture::create(&target, 1, 5, 0).await.unwrap();
    // 4 KB messages (the content limit is 5,000 characters), 8 MB to each member: more than the
    // socket buffers and the queue hold, at a pace the readers keep up with.
    let stalled = load::Settings { payload: 4_000, protocol: Protocol::Parlor, stalled: 0.2, last_member: false };
    let report = load::run(&target, &fixture, stalled, 100.0, 20.0).await.unwrap();

    assert_eq!(report.stalled, 1);
    assert_eq!(report.stalled_cut_off.get("4008"), Some(&1), "{report}");
    assert_eq!(report.expected, report.sent * 4, "the stalled member is not expected to receive");
    assert_eq!(
        (report.delivered, report.lost, report.acknowledged),
        (report.expected, 0, Some(report.sent)),
        "{report}"
    );
}

#[tokio::test]
async fn idle_connections_are_held_and_reopened_in_a_storm() {
    let (_app, target) = bench_server(|_| {}).await;
    let settings = idle::Settings {
        steps: vec![5, 20],
        hold: 0,
        first_user: 100,
        local_ips: vec!["127.0.0.1".parse().unwrap()],
        storm: true,
        concurrency: 8,
        fixture: None,
    };
    let report = idle::run(&target, settings).await.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.connections).collect::<Vec<_>>(), [5, 20]);
    let storm = report.storm.unwrap();
    assert_eq!((storm.connections, storm.ready.count), (20, 20));
    assert!(storm.ready.max <= storm.secs * 1000.0 + 1.0);
}

#[tokio::test]
async fn requests_time_a_page_and_refuse_to_time_an_error() {
    let (_app, target) = bench_server(|_| {}).await;
    let report = requests::run(&target, 0, "/api/chat/conversations/", 20, 2).await.unwrap();
    assert_eq!((report.requests, report.latency.count), (20, 20));
    assert!(report.response_bytes > 0);
    let error = requests::run(&target, 0, "/api/chat/conversations/999999/messages", 5, 0).await.unwrap_err();
    assert!(format!("{error:#}").contains("404"), "{error:#}");
}
