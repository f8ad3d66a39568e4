//! The `parlor-bench` command line as bench/run calls it, for the shapes it refuses before
//! touching a server (loads against a real server are in parlor-server's tests/api/
//! load_generator.rs). Being an integration test, it also makes `cargo test` build the binary,
//! which `bench/run --smoke` in CI then runs from target/debug.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::process::{Command, Output};

fn parlor_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parlor-bench")).args(args).output().expect("parlor-bench runs")
}

/// `fixture` with `--users`: direct conversations among a pool of users. Nothing listens on the
/// URL: these must fail before any request.
fn pool_fixture(users: &str, rooms: &str, room_size: &str) -> String {
    let out = parlor_bench(&[
        "fixture",
        "--url",
        "http://127.0.0.1:9",
        "--jwt-secret",
        "s",
        "--out",
        "/dev/null",
        "--users",
        users,
        "--rooms",
        rooms,
        "--room-size",
        room_size,
    ]);
    assert!(!out.status.success(), "{users} users, {rooms} rooms of {room_size} should be refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_mode_bench_run_uses_is_there() {
    let help = String::from_utf8(parlor_bench(&["--help"]).stdout).unwrap();
    for mode in ["fixture", "load", "ramp", "idle", "requests"] {
        assert!(help.contains(mode), "no {mode} in:\n{help}");
    }
    let fixture = String::from_utf8(parlor_bench(&["fixture", "--help"]).stdout).unwrap();
    assert!(fixture.contains("--users"), "{fixture}");
}

#[test]
fn a_pool_of_users_makes_only_distinct_direct_conversations() {
    assert!(pool_fixture("3", "2", "2").contains("even"));
    // 4 users have 6 pairs.
    assert!(pool_fixture("4", "7", "2").contains("at most 6"));
    assert!(pool_fixture("4", "2", "3").contains("--room-size 2"));
}
