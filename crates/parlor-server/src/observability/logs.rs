//! The process's log output: `tracing` to stderr, as text or one JSON object per line, filtered
//! by `PARLOR_LOG` or the `log` setting. What is logged is kept free of tokens, passwords and
//! message contents where it is written (request spans record the path only).

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber; the binary calls it once, at start.
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_env("PARLOR_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.observability.log_format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // Event fields at the top level (`"addr": ...` beside `"message"`), as collectors index them.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
