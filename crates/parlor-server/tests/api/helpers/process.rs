//! The real `parlor` binary in a process of its own, for tests that kill it, read its log or
//! measure its memory.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{TOKEN_SECRET, WAIT, send};

/// The real `parlor` binary, for tests that kill it.
pub struct Process {
    child: tokio::process::Child,
    pub addr: SocketAddr,
}

impl Process {
    pub async fn start(data_dir: &Path) -> Process {
        let dir = data_dir.to_str().unwrap();
        Self::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &[]).await
    }

    /// Runs `parlor` with these arguments and extra environment variables.
    pub async fn start_with(args: &[&str], env: &[(&str, &str)]) -> Process {
        Self::start_logged(args, env).await.0
    }

    /// As [`Process::start_with`], also keeping every line it logs (`PARLOR_LOG` is `info`
    /// unless `env` says otherwise); text and JSON logs both work.
    pub async fn start_logged(args: &[&str], env: &[(&str, &str)]) -> (Process, Arc<Mutex<Vec<String>>>) {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(args)
            .env("PARLOR_TOKEN_SECRET", TOKEN_SECRET)
            .env("PARLOR_LOG", "info")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("parlor binary starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                log.lock().unwrap().push(line.clone());
                let found = ["addr=", "\"addr\":\""].iter().find_map(|key| line.find(key).map(|at| at + key.len()));
                if let Some(at) = found {
                    let addr = line[at..].split(|c: char| c.is_whitespace() || c == '"').next().unwrap();
                    return addr.parse::<SocketAddr>().unwrap();
                }
            }
            panic!("parlor exited before listening");
        })
        .await
        .expect("parlor listens in time");
        // Keep draining the log so the child never blocks on a full pipe; bytes that are not
        // UTF-8 must not end the capture.
        let kept = log.clone();
        let mut rest = lines.into_inner();
        tokio::spawn(async move {
            let mut line = Vec::new();
            while rest.read_until(b'\n', &mut line).await.is_ok_and(|n| n > 0) {
                kept.lock().unwrap().push(String::from_utf8_lossy(&line).trim_end().to_string());
                line.clear();
            }
        });
        (Process { child, addr }, log)
    }

    /// The server process's resident memory now, in KiB (`VmRSS` in /proc/<pid>/status).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        rss_kib_of(&format!("/proc/{pid}/status"))
    }

    /// Its peak resident memory so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        status_kib(&format!("/proc/{pid}/status"), "VmHWM:")
    }

    pub fn app_view(&self) -> RemoteApp {
        RemoteApp { addr: self.addr, http: reqwest::Client::new() }
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await.expect("exits in time").unwrap()
    }
}

/// HTTP helpers against a server in another process.
pub struct RemoteApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl RemoteApp {
    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        send(self.http.get(format!("http://{}{path}", self.addr)).bearer_auth(token)).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        let req = self.http.post(format!("http://{}{path}", self.addr)).json(&body);
        send(match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        })
        .await
    }
}

/// `VmRSS` of a /proc status file, in KiB.
pub fn rss_kib_of(status: &str) -> u64 {
    status_kib(status, "VmRSS:")
}

fn status_kib(status: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(status).expect("the process's status is readable");
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("the status file names the size")
}
