//! The `parlor` command line: settings from environment variables, the printed defaults, and a
//! clear error naming the key of a bad setting.

use crate::helpers::{Process, temp_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_bind_and_data_dir_from_the_environment() {
    let (_guard, data_dir) = temp_path();
    let server = Process::start_with(
        &["serve"],
        &[("PARLOR_BIND", "127.0.0.1:0"), ("PARLOR_DATA_DIR", data_dir.to_str().unwrap())],
    )
    .await;
    assert!(data_dir.join("parlor.db").exists(), "database created and migrated on first start");
    let response = reqwest::get(format!("http://{}/healthz", server.addr)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.terminate().await.success());
}

#[test]
fn config_prints_the_commented_defaults() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor")).arg("config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("bind = \"127.0.0.1:8080\""), "{text}");
    assert!(text.contains("data_dir = \"./parlor-data\""));
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 20, "defaults are commented");
}

#[test]
fn a_bad_setting_fails_fast_naming_its_key() {
    let (_guard, data_dir) = temp_path();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap()])
        .env("PARLOR_LIMITS__SEND_QUEUE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limits.send_queue"), "{err}");
}
