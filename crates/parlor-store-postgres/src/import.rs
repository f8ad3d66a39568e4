//! `parlor migrate`: copies a single-node SQLite database into an empty PostgreSQL one.
//!
//! The PostgreSQL schema keeps the SQLite schema's table and column names, so the copy is
//! mechanical: every table the PostgreSQL migrations created is read from SQLite column by
//! column and written in multi-row inserts, all in one transaction, with triggers off (the
//! copied webhook outbox must not be filled a second time by the trigger on `events`). Identity
//! sequences then continue after the highest copied id, and every table's row count is compared
//! before the commit. Nothing is written unless all of it is.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use futures_util::TryStreamExt;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, Row, SqliteConnection};

/// Binds per statement stay well under PostgreSQL's limit of 65,535.
const MAX_BINDS: usize = 30_000;

/// SQLite tables with no PostgreSQL twin: FTS5's index, which PostgreSQL's GIN index over
/// `messages` replaces (it is filled as the messages are copied).
const SQLITE_ONLY: &[&str] = &["messages_fts", "messages_fts_pending"];

/// PostgreSQL tables with no SQLite twin: the webhook outbox's id counter, moved past the
/// copied outbox by [`fix_up`].
const POSTGRES_ONLY: &[&str] = &["webhook_outbox_counter"];

/// What was copied: each table and its row count, in copy order.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub tables: Vec<(String, u64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The target already holds parlor data: nothing was copied.
    #[error("the PostgreSQL database already holds data (table {0} is not empty); migrate into an empty database")]
    NotEmpty(String),
    /// The two schemas do not line up (an older parlor on one side?).
    #[error("schemas differ: {0}")]
    Schema(String),
    /// After the copy, a table held a different number of rows than its source.
    #[error("table {table}: copied {copied} rows of {source_rows}")]
    Count { table: String, source_rows: u64, copied: u64 },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A column of a PostgreSQL table: its name and type (`udt_name`: int8, text, bool...).
struct Column {
    name: String,
    udt: String,
}

/// Copies everything from the SQLite file into the PostgreSQL database at `pg_url`, whose schema
/// must already be migrated and whose tables must be empty (the system user the migrations seed
/// is replaced by the source's).
pub async fn import_sqlite(sqlite_file: &Path, pg_url: &str) -> Result<ImportReport, ImportError> {
    let mut source = SqliteConnectOptions::new().filename(sqlite_file).read_only(true).connect().await?;
    let mut target = PgConnection::connect(pg_url).await?;
    let mut tables = target_tables(&mut target).await?;
    tables.retain(|(t, _)| !POSTGRES_ONLY.contains(&t.as_str()));
    let known: HashSet<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    for table in sqlite_tables(&mut source).await? {
        let derived = SQLITE_ONLY.iter().any(|d| table == *d || table.starts_with(&format!("{d}_")));
        if !derived && !known.contains(table.as_str()) {
            return Err(ImportError::Schema(format!("SQLite table {table} has no place in PostgreSQL")));
        }
    }
    let mut tx = target.begin().await?;
    // Triggers off for this transaction: copied rows are final, derived rows are copied too.
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
    let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    // Empty but for what the migrations seed: the system user (id 0), replaced by the source's.
    for (table, _) in &tables {
        let beyond_seed = if table == "users" { " WHERE id <> 0" } else { "" };
        let count: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}{beyond_seed}")).fetch_one(&mut *tx).await?;
        if count > 0 {
            return Err(ImportError::NotEmpty(table.clone()));
        }
    }
    sqlx::query(&format!("TRUNCATE {}", names.join(", "))).execute(&mut *tx).await?;

    let mut report = ImportReport::default();
    for (table, columns) in &tables {
        let source_columns = sqlite_columns(&mut source, table).await?;
        if source_columns.is_empty() {
            return Err(ImportError::Schema(format!("table {table} is missing from the SQLite database")));
        }
        let wanted: HashSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        if let Some(lost) = source_columns.iter().find(|c| !wanted.contains(c.as_str())) {
            return Err(ImportError::Schema(format!("column {table}.{lost} has no place in PostgreSQL")));
        }
        let copied: Vec<&Column> = columns.iter().filter(|c| source_columns.contains(&c.name)).collect();
        let source_rows = copy_table(&mut source, &mut tx, table, &copied).await?;
        let in_target: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut *tx).await?;
        if in_target as u64 != source_rows {
            return Err(ImportError::Count { table: table.clone(), source_rows, copied: in_target as u64 });
        }
        report.tables.push((table.clone(), source_rows));
    }
    reset_sequences(&mut tx, &tables).await?;
    fix_up(&mut tx).await?;
    tx.commit().await?;
    source.close().await?;
    target.close().await?;
    Ok(report)
}

/// The target's tables (but the migrations' own) with their columns, parents before children
/// (triggers, and so foreign-key checks, are off during the copy, but the order keeps the copy
/// readable and ready for a non-superuser variant).
async fn target_tables(target: &mut PgConnection) -> Result<Vec<(String, Vec<Column>)>, ImportError> {
    let rows = sqlx::query(
        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.table_name NOT LIKE '\\_sqlx%' AND c.is_generated = 'NEVER' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *target)
    .await?;
    let mut tables: Vec<(String, Vec<Column>)> = Vec::new();
    for row in rows {
        let (table, name, udt): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        match tables.last_mut() {
            Some((t, cols)) if *t == table => cols.push(Column { name, udt }),
            _ => tables.push((table, vec![Column { name, udt }])),
        }
    }
    let edges = sqlx::query(
        "SELECT DISTINCT child.relname::text, parent.relname::text FROM pg_constraint k \
         JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid \
         WHERE k.contype = 'f' AND child.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *target)
    .await?;
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for edge in edges {
        let (child, parent): (String, String) = (edge.try_get(0)?, edge.try_get(1)?);
        if child != parent {
            parents.entry(child).or_default().push(parent);
        }
    }
    // Depth-first: each table after its parents.
    let mut ordered: Vec<(String, Vec<Column>)> = Vec::with_capacity(tables.len());
    let mut done = HashSet::new();
    let mut pending: HashMap<String, Vec<Column>> = tables.into_iter().collect();
    let mut names: Vec<String> = pending.keys().cloned().collect();
    names.sort();
    fn visit(
        name: &str,
        parents: &HashMap<String, Vec<String>>,
        pending: &mut HashMap<String, Vec<Column>>,
        done: &mut HashSet<String>,
        ordered: &mut Vec<(String, Vec<Column>)>,
    ) {
        if !done.insert(name.to_owned()) {
            return;
        }
        for parent in parents.get(name).into_iter().flatten() {
            visit(parent, parents, pending, done, ordered);
        }
        if let Some(columns) = pending.remove(name) {
            ordered.push((name.to_owned(), columns));
        }
    }
    for name in names {
        visit(&name, &parents, &mut pending, &mut done, &mut ordered);
    }
    Ok(ordered)
}

async fn sqlite_columns(source: &mut SqliteConnection, table: &str) -> Result<Vec<String>, ImportError> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?)").bind(table).fetch_all(&mut *source).await?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(ImportError::from)).collect()
}

/// Copies one table in multi-row inserts; returns how many rows the source had.
async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &str,
    columns: &[&Column],
) -> Result<u64, ImportError> {
    let list = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let rows_per_insert = (MAX_BINDS / columns.len().max(1)).max(1);
    let select = format!("SELECT {list} FROM {table}");
    let mut rows = sqlx::query(&select).fetch(&mut *source);
    let (mut chunk, mut total) = (Vec::with_capacity(rows_per_insert), 0u64);
    // Streamed: a table of millions of messages never sits in memory whole.
    while let Some(row) = rows.try_next().await? {
        chunk.push(row);
        if chunk.len() == rows_per_insert {
            total += insert_rows(target, table, &list, columns, &chunk).await?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        total += insert_rows(target, table, &list, columns, &chunk).await?;
    }
    Ok(total)
}

async fn insert_rows(
    target: &mut PgConnection,
    table: &str,
    list: &str,
    columns: &[&Column],
    chunk: &[SqliteRow],
) -> Result<u64, ImportError> {
    let mut sql = format!("INSERT INTO {table} ({list}) VALUES ");
    let mut n = 0;
    for i in 0..chunk.len() {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for (j, column) in columns.iter().enumerate() {
            n += 1;
            let sep = if j == 0 { "" } else { ", " };
            sql.push_str(&format!("{sep}${n}::{}", column.udt));
        }
        sql.push(')');
    }
    let mut insert = sqlx::query(&sql);
    for row in chunk {
        for (j, column) in columns.iter().enumerate() {
            insert = bind_value(insert, row, j, column)?;
        }
    }
    insert.execute(&mut *target).await?;
    Ok(chunk.len() as u64)
}

/// Reads a SQLite value as the Rust type of the PostgreSQL column and binds it.
fn bind_value<'q>(
    insert: Query<'q, Postgres, PgArguments>,
    row: &SqliteRow,
    index: usize,
    column: &Column,
) -> Result<Query<'q, Postgres, PgArguments>, ImportError> {
    Ok(match column.udt.as_str() {
        "int2" | "int4" | "int8" => insert.bind(row.try_get::<Option<i64>, _>(index)?),
        "bool" => insert.bind(row.try_get::<Option<bool>, _>(index)?),
        "float4" | "float8" | "numeric" => insert.bind(row.try_get::<Option<f64>, _>(index)?),
        "bytea" => insert.bind(row.try_get::<Option<Vec<u8>>, _>(index)?),
        "text" | "varchar" | "bpchar" | "json" | "jsonb" | "citext" => {
            insert.bind(row.try_get::<Option<String>, _>(index)?)
        }
        other => {
            return Err(ImportError::Schema(format!(
                "column {} has a type the copy does not know: {other}",
                column.name
            )));
        }
    })
}

/// Identity and serial columns continue after the highest copied value.
async fn reset_sequences(target: &mut PgConnection, tables: &[(String, Vec<Column>)]) -> Result<(), ImportError> {
    for (table, columns) in tables {
        for column in columns {
            let sequence: Option<String> = sqlx::query_scalar("SELECT pg_get_serial_sequence($1, $2)")
                .bind(table)
                .bind(&column.name)
                .fetch_one(&mut *target)
                .await?;
            if let Some(sequence) = sequence {
                sqlx::query(&format!(
                    "SELECT setval('{sequence}', COALESCE((SELECT max({}) FROM {table}), 0) + 1, false)",
                    column.name
                ))
                .execute(&mut *target)
                .await?;
            }
        }
    }
    Ok(())
}

async fn sqlite_tables(source: &mut SqliteConnection) -> Result<Vec<String>, ImportError> {
    let rows = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&mut *source)
    .await?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(ImportError::from)).collect()
}

/// What PostgreSQL keeps beside the copied rows: the outbox counter continues after the
/// highest copied outbox id, so new events are numbered after the ones endpoints have seen.
async fn fix_up(target: &mut PgConnection) -> Result<(), ImportError> {
    sqlx::query(
        "UPDATE webhook_outbox_counter SET last_id = GREATEST(last_id, (SELECT COALESCE(max(id), 0) FROM webhook_outbox))",
    )
    .execute(&mut *target)
    .await?;
    Ok(())
}
