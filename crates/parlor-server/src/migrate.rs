//! `parlor migrate`: moves a single-node deployment's SQLite database into PostgreSQL, for
//! scaling out (docs/deploy.md). Both schemas are brought up to date first (the SQLite one with
//! its own migrations, so a deployment of any earlier version moves), then
//! `parlor_store_postgres::import` copies every row in one transaction and checks the counts.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use parlor_store::Store;

#[derive(Args)]
pub struct MigrateArgs {
    /// The deployment to move: `sqlite:DATA_DIR` (its parlor.db) or `sqlite:FILE.db`. Stop the
    /// server first: what it writes during the copy is not moved.
    #[arg(long)]
    from: String,
    /// The empty PostgreSQL database to move it to: `postgres://user:password@host/db`.
    #[arg(long, env = "PARLOR_DATABASE_URL", hide_env_values = true)]
    to: String,
}

/// Runs the copy and prints what was moved.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let file = sqlite_file(&args.from)?;
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        bail!("--to must be a postgres:// URL");
    }
    let sqlite = parlor_store_sqlite::open(&file).await.with_context(|| format!("cannot open {}", file.display()))?;
    sqlite.close().await;
    let postgres = parlor_store_postgres::connect(&args.to, Default::default())
        .await
        .context("cannot open the PostgreSQL database")?;
    postgres.close().await;
    let report = parlor_store_postgres::import::import_sqlite(&file, &args.to).await?;
    let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
    for (table, count) in &report.tables {
        println!("{table:<24} {count:>10}");
    }
    println!("moved {rows} rows in {} tables from {} to PostgreSQL", report.tables.len(), file.display());
    Ok(())
}

fn sqlite_file(from: &str) -> anyhow::Result<PathBuf> {
    let Some(path) = from.strip_prefix("sqlite:") else { bail!("--from must be sqlite:DATA_DIR or sqlite:FILE.db") };
    let path = Path::new(path.strip_prefix("//").unwrap_or(path));
    let file = if path.is_dir() { path.join("parlor.db") } else { path.to_path_buf() };
    if !file.is_file() {
        bail!("no parlor database at {}", file.display());
    }
    Ok(file)
}
