//! Calls between real browsers (tests/web/calls.test.mjs): Chromium with fake media devices
//! against a real server, and a real coturn (`/usr/bin/turnserver`) started here on free ports
//! with `use-auth-secret`, so a call forced through the relay proves parlor's TURN credentials.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::{API_KEY, TestApp};
use crate::web_client::{missing_browser_tools, run_browser_tests, screenshot_dir};

const TURN_SECRET: &str = "coturn-static-auth-secret-0123456789abcdef";
const TURNSERVER: &str = "/usr/bin/turnserver";

/// A free port on 127.0.0.1 (UDP and TCP both free, as coturn listens on both).
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// coturn on 127.0.0.1 with the TURN REST scheme, relaying between loopback peers; killed on drop.
async fn start_coturn() -> (Child, String) {
    let port = free_port();
    let relay_low = free_port().clamp(20000, 60000);
    let child = Command::new(TURNSERVER)
        .args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--use-auth-secret", "--allow-loopback-peers"])
        .arg(format!("--static-auth-secret={TURN_SECRET}"))
        .args(["--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--realm=parlor.test", "--log-file=stdout"])
        .arg(format!("--listening-port={port}"))
        .arg(format!("--min-port={relay_low}"))
        .arg(format!("--max-port={}", relay_low + 200))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start turnserver");
    // Ready once it listens.
    crate::helpers::eventually(crate::helpers::WAIT, "turnserver listens", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await;
    (child, format!("turn:127.0.0.1:{port}?transport=udp"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_between_real_browsers_through_a_real_turn_server() {
    if let Some(why) = missing_browser_tools() {
        assert!(std::env::var_os("CI").is_none(), "the browser call tests must run in CI: {why}");
        eprintln!("SKIPPED calls_between_real_browsers_through_a_real_turn_server: {why}");
        return;
    }
    assert!(Path::new(TURNSERVER).exists(), "{TURNSERVER} is missing (apt-get install coturn)");
    let (_coturn, turn_url) = start_coturn().await;
    let app = TestApp::spawn_with(|c| {
        c.calls.ring_timeout_secs = 8;
        c.calls.ice_servers = vec![turn_url.clone()];
        c.calls.turn_secret = parlor_server::config::Secret::new(TURN_SECRET);
        c.limits.presence_grace_ms = 500;
    })
    .await;
    let env = [
        ("TURN_URL", turn_url.clone()),
        ("API_KEY", API_KEY.to_owned()),
        ("SCREENSHOT_DIR", screenshot_dir().display().to_string()),
    ];
    eprintln!("{}", run_browser_tests(&app, &["calls.test.mjs"], &env, Duration::from_secs(600)).await);
    app.stop().await;
}
