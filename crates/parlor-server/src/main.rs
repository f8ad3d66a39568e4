//! The `parlor` command: `serve` runs the server; `config` prints the commented defaults;
//! `admin` manages a running server through its server API; `migrate` moves a SQLite deployment
//! into PostgreSQL; `verify` checks a signed transcript offline.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use parlor_server::Server;
use parlor_server::config::{Config, DEFAULT_CONFIG, Overrides};

#[derive(Parser)]
#[command(name = "parlor", version, about = "Self-hosted real-time chat server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the chat server.
    Serve {
        /// Address to listen on [env: PARLOR_BIND] [default: 127.0.0.1:8080]
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Where the database and keys live [env: PARLOR_DATA_DIR] [default: ./parlor-data]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A TOML file of settings (see `parlor config`)
        #[arg(long, env = "PARLOR_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the default configuration, with comments.
    Config,
    /// Manage a running server: users, tokens, exports, backups (through its server API).
    Admin(parlor_server::admin::AdminArgs),
    /// Move a single-node SQLite deployment into PostgreSQL (to run several nodes).
    Migrate(parlor_server::migrate::MigrateArgs),
    /// Check a signed transcript offline (`parlor admin export --signed`): its signature, its
    /// hash chain, and which events were edited, deleted or withheld. Exits 1 if it fails.
    Verify {
        /// The transcript file
        file: PathBuf,
        /// The server's public key (hex, from /api/server/transcript-key): the transcript must
        /// be signed by it. Without it, the key the file names is reported, not trusted.
        #[arg(long)]
        key: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Config => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::Admin(args) => {
            // One line with the whole chain of causes: the server's message, or why it was not reached.
            if let Err(e) = parlor_server::admin::run(args).await {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Migrate(args) => {
            if let Err(e) = parlor_server::migrate::run(args).await {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Verify { file, key } => {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", file.display());
                    std::process::exit(2);
                }
            };
            let report = parlor_server::transcript::verify::verify(&bytes, key.as_deref());
            print!("{}", report.render());
            if !report.verified() {
                std::process::exit(1);
            }
            if key.is_none() {
                eprintln!("note: pass --key with the server's public key to be sure who signed it");
            }
            Ok(())
        }
        Command::Serve { bind, data_dir, config } => {
            let config = Config::load(config.as_deref(), Overrides { bind, data_dir })?;
            parlor_server::observability::init_logging(&config);
            tracing::info!(data_dir = %config.data_dir.display(), "starting parlor");
            let server = Server::bind(config).await?;
            server.run(shutdown_signal()).await
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
