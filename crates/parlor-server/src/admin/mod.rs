//! `parlor admin ...`: the operator's tool. It never opens the database: the running server
//! holds its only write connection, so every command is a call to the server API
//! (`/api/server/...`, with the `api_key`) and the server does the work, ordered with
//! everything else it writes.

mod client;
mod export;

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use parlor_core::Username;
use parlor_protocol::{BackupRequest, BackupView, CreateAccountRequest, IssueTokenRequest, IssuedToken};
use serde::Deserialize;
use serde_json::json;

use self::client::ServerApi;
pub use self::export::Format;

#[derive(Args)]
pub struct AdminArgs {
    /// The running server's address
    #[arg(long, env = "PARLOR_URL", default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    /// The server's `api_key`
    #[arg(long, env = "PARLOR_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a password account (the password is read from standard input).
    CreateUser {
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Display name [default: the username]
        #[arg(long)]
        name: Option<String>,
        /// Make the user a server admin
        #[arg(long)]
        admin: bool,
    },
    /// Print a new access token for a user (by id or @username).
    IssueToken {
        user: String,
        /// How long the token lives, e.g. `15m`, `12h`, `30d` [default: the server's access_token_ttl_secs]
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
    },
    /// Disable a user (by id or @username): their sockets close at once, their tokens stop working.
    Disable { user: String },
    /// Enable a disabled user again.
    Enable { user: String },
    /// Export a conversation with every message, as JSON or a readable HTML transcript.
    Export {
        conversation: i64,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// A transcript signed with the server's key, checkable with `parlor verify`
        /// (docs/transcripts.md), instead of `--format`
        #[arg(long, conflicts_with = "format")]
        signed: bool,
        /// Write to this file instead of standard output
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Back up the database while the server runs, to a new file on the server's machine
    /// (a relative path is inside the server's data directory).
    Backup { path: String },
    /// Compact the database while the server runs (writes wait for it).
    Vacuum,
}

/// A user as the server API shows one.
#[derive(Deserialize)]
struct ServerUser {
    id: i64,
    username: Option<String>,
    name: String,
}

impl ServerUser {
    fn label(&self) -> String {
        match &self.username {
            Some(u) => format!("{} (@{u})", self.id),
            None if self.name.is_empty() => self.id.to_string(),
            None => format!("{} ({})", self.id, self.name),
        }
    }
}

/// Runs one admin command; what it made goes to standard output, what it did to standard error.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let api = ServerApi::new(&args.url, args.api_key)?;
    match args.command {
        AdminCommand::CreateUser { username, password_stdin: _, name, admin } => {
            let password = read_password()?;
            let body = CreateAccountRequest { username, password, name, admin };
            let user: ServerUser = api.post("/api/server/accounts", &body).await?;
            println!("{}", user.id);
            eprintln!("created user {}{}", user.label(), if admin { ", a server admin" } else { "" });
        }
        AdminCommand::IssueToken { user, ttl } => {
            let user = resolve(&api, &user).await?;
            let ttl_secs = ttl.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let issued: IssuedToken =
                api.post(&format!("/api/server/accounts/{}/tokens", user.id), &IssueTokenRequest { ttl_secs }).await?;
            println!("{}", issued.access);
            eprintln!(
                "access token for user {}, valid for {}",
                user.label(),
                humantime::format_duration(Duration::from_secs(issued.expires_in.max(0) as u64))
            );
        }
        AdminCommand::Disable { user } => set_disabled(&api, &user, true).await?,
        AdminCommand::Enable { user } => set_disabled(&api, &user, false).await?,
        AdminCommand::Export { conversation, format, signed, output } => {
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(BufWriter::new(
                    std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(BufWriter::new(std::io::stdout().lock())),
            };
            if signed {
                let transcript = api.get_bytes(&format!("/api/server/conversations/{conversation}/transcript")).await?;
                out.write_all(&transcript).and_then(|()| out.flush()).context("writing the transcript")?;
                let to = output.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
                eprintln!("signed transcript of conversation {conversation} written to {to}");
                return Ok(());
            }
            let count = export::export(&api, conversation, format, &mut out).await?;
            let to = output.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
            eprintln!("exported conversation {conversation}: {count} messages to {to}");
        }
        AdminCommand::Backup { path } => {
            let done: BackupView = api.post("/api/server/backup", &BackupRequest { path }).await?;
            println!("{}", done.path);
            eprintln!("backed up to {} ({} bytes)", done.path, done.bytes);
        }
        AdminCommand::Vacuum => {
            api.post_empty("/api/server/vacuum").await?;
            eprintln!("vacuumed");
        }
    }
    Ok(())
}

async fn set_disabled(api: &ServerApi, user: &str, disabled: bool) -> anyhow::Result<()> {
    let user = resolve(api, user).await?;
    let user: ServerUser =
        api.patch(&format!("/api/server/accounts/{}", user.id), &json!({ "disabled": disabled })).await?;
    eprintln!("{} user {}", if disabled { "disabled" } else { "enabled" }, user.label());
    Ok(())
}

/// `42` or `@alice`.
async fn resolve(api: &ServerApi, user: &str) -> anyhow::Result<ServerUser> {
    if let Some(username) = user.strip_prefix('@') {
        // Only a valid username goes into the path, so a typo cannot turn into another path.
        let username = Username::parse(username).map_err(|e| anyhow::anyhow!("@{username}: {e}"))?;
        let path = format!("/api/server/accounts/by-username/{}", username.as_str());
        return api.get(&path).await.with_context(|| format!("looking up @{}", username.as_str()));
    }
    let Ok(id) = user.parse::<i64>() else { bail!("name the user by id (42) or username (@alice), not `{user}`") };
    Ok(ServerUser { id, username: None, name: String::new() })
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}
