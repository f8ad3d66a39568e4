//! Timing must not tell which usernames exist (issue 17, item 1): a failed login costs one full
//! Argon2 verification whether or not the name is known, and registering a taken name costs a
//! hash as registering a free one does. Compared as a ratio of medians, never absolute times.

use std::time::{Duration, Instant};

use parlor_server::rate_limit::Rate;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

const ATTEMPTS: usize = 15;

/// The two tests here take turns: each measures better without the other's hashing beside it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Slower median over faster median.
fn ratio(a: Duration, b: Duration) -> f64 {
    a.max(b).as_secs_f64() / a.min(b).as_secs_f64()
}

/// Both at once, the first sent first on even turns and second on odd ones: the one sent
/// second waits a little longer for its turn.
async fn both<A: std::future::Future, B: std::future::Future>(turn: usize, a: A, b: B) -> (A::Output, B::Output) {
    if turn.is_multiple_of(2) {
        tokio::join!(a, b)
    } else {
        let (b, a) = tokio::join!(b, a);
        (a, b)
    }
}

async fn timed(app: &TestApp, path: &str, body: serde_json::Value, expected: StatusCode) -> Duration {
    let started = Instant::now();
    let (status, answer) = app.post(None, path, body).await;
    let took = started.elapsed();
    assert_eq!(status, expected, "{path}: {answer}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_takes_as_long_for_an_unknown_username_as_for_a_known_one() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // Unlimited, as from many addresses: what is measured is the answer, not the limiter's.
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.logins_per_ip = Rate::OFF;
        c.rate_limits.logins_per_username = Rate::OFF;
    })
    .await;
    app.register("alice").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // In pairs at the same moment, so load on the machine falls on both alike.
    for i in 0..ATTEMPTS {
        let wrong = json!({"username": "alice", "password": format!("wrong password {i}")});
        let nobody = json!({"username": format!("nobody{i}"), "password": "wrong password"});
        let k = timed(&app, "/api/auth/token", wrong, StatusCode::UNAUTHORIZED);
        let u = timed(&app, "/api/auth/token", nobody, StatusCode::UNAUTHORIZED);
        let (k, u) = both(i, k, u).await;
        known.push(k);
        unknown.push(u);
    }
    let (known, unknown) = (median(known), median(unknown));
    assert!(ratio(known, unknown) < 1.25, "known user: {known:?}, unknown user: {unknown:?} (medians)");
}

/// A taken name is answered 409 `username_taken`, which says so in words; what matters is that
/// the answer is not cheaper than a check of the password would be, so the hash is paid either
/// way and a taken name is no cheaper probe. A free name costs more still: its new account and
/// session are committed; so the taken name is compared with a failed login, which is exactly
/// one Argon2 computation and a lookup, as the taken name's registration is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_taken_username_is_not_faster_than_a_free_one() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.logins_per_ip = Rate::OFF;
        c.rate_limits.logins_per_username = Rate::OFF;
    })
    .await;
    app.register("alice").await;
    let (mut free, mut taken, mut login) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ATTEMPTS {
        let new = json!({"username": format!("newcomer{i}"), "password": "correct horse"});
        free.push(timed(&app, "/api/auth/register", new, StatusCode::CREATED).await);
        let again = json!({"username": "alice", "password": "correct horse"});
        let wrong = json!({"username": "alice", "password": format!("wrong password {i}")});
        let t = timed(&app, "/api/auth/register", again, StatusCode::CONFLICT);
        let l = timed(&app, "/api/auth/token", wrong, StatusCode::UNAUTHORIZED);
        let (t, l) = both(i, t, l).await;
        taken.push(t);
        login.push(l);
    }
    let (free, taken, login) = (median(free), median(taken), median(login));
    // Not faster: without the hash a taken name would answer in a few milliseconds.
    assert!(taken >= free / 2, "free name: {free:?}, taken name: {taken:?} (medians)");
    // At least the hash: not more than 25% faster than a failed login (its write may be slower).
    assert!(taken * 5 >= login * 4, "taken name: {taken:?}, a failed login: {login:?} (medians)");
}
