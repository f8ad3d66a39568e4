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

#[test]
fn a_secret_shorter_than_32_bytes_refuses_to_start_saying_which_and_why() {
    let (_guard, data_dir) = temp_path();
    let long = "x".repeat(32);
    for (var, key) in
        [("PARLOR_JWT_SECRET", "jwt_secret"), ("PARLOR_TOKEN_SECRET", "token_secret"), ("PARLOR_API_KEY", "api_key")]
    {
        let serve = |value: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
                .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap()])
                // A bad setting beside it, so a start that passes the check also ends at once.
                .env("PARLOR_LIMITS__SEND_QUEUE", "1")
                .env(var, value)
                .output()
                .unwrap()
        };
        let short = serve(&long[..31]);
        assert!(!short.status.success(), "{var}");
        let err = String::from_utf8_lossy(&short.stderr);
        assert!(err.contains(&format!("`{key}`")) && err.contains("31 bytes") && err.contains("at least 32"), "{err}");
        assert!(err.contains("brute-force") || err.contains("guards the server API"), "says why: {err}");
        // 32 bytes pass this check: what fails then is the other setting.
        let enough = String::from_utf8_lossy(&serve(&long).stderr).into_owned();
        assert!(enough.contains("limits.send_queue") && !enough.contains(&format!("`{key}`")), "{enough}");
    }
}
