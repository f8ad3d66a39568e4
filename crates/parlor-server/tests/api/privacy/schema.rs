//! Looking inside the store's database as an auditor would: every table and column the schema
//! has now (not a list written down once), on SQLite or PostgreSQL, whichever the test server
//! runs on; and the tables docs/privacy.md accounts for.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, Row, SqliteConnection};

pub enum Database {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Database {
    pub async fn open(url: &str) -> Database {
        if url.starts_with("postgres") {
            Database::Postgres(PgConnection::connect(url).await.expect("connect to PostgreSQL"))
        } else {
            Database::Sqlite(SqliteConnection::connect(url).await.expect("open the SQLite file"))
        }
    }

    /// Every table and its columns, migrations' bookkeeping left out.
    pub async fn tables(&mut self) -> BTreeMap<String, Vec<String>> {
        let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match self {
            Database::Sqlite(c) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                     AND name <> '_sqlx_migrations'",
                )
                .fetch_all(&mut *c)
                .await
                .unwrap();
                for name in names {
                    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                        .bind(&name)
                        .fetch_all(&mut *c)
                        .await
                        .unwrap();
                    tables.insert(name, columns);
                }
            }
            Database::Postgres(c) => {
                let rows = sqlx::query(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                     ORDER BY table_name, ordinal_position",
                )
                .fetch_all(&mut *c)
                .await
                .unwrap();
                for row in rows {
                    tables.entry(row.get(0)).or_default().push(row.get(1));
                }
            }
        }
        tables
    }

    /// (table, column) pairs with a foreign key to `users`.
    pub async fn user_references(&mut self) -> BTreeSet<(String, String)> {
        let mut found = BTreeSet::new();
        match self {
            Database::Sqlite(c) => {
                let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&mut *c)
                    .await
                    .unwrap();
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE \"table\" = 'users'")
                            .bind(&table)
                            .fetch_all(&mut *c)
                            .await
                            .unwrap();
                    found.extend(columns.into_iter().map(|column| (table.clone(), column)));
                }
            }
            Database::Postgres(c) => {
                let rows = sqlx::query(
                    "SELECT tc.table_name::text, kcu.column_name::text FROM information_schema.table_constraints tc \
                     JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
                       AND kcu.table_schema = tc.table_schema \
                     JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name \
                       AND ccu.table_schema = tc.table_schema \
                     WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'users' \
                       AND tc.table_schema = current_schema()",
                )
                .fetch_all(&mut *c)
                .await
                .unwrap();
                found.extend(rows.iter().map(|r| (r.get(0), r.get(1))));
            }
        }
        found
    }

    /// Rows of `table` whose `column`, read as text, contains `needle` (ignoring case); on
    /// SQLite also its bytes, wherever they are (a text comparison stops at the first NUL of a
    /// blob, such as the pages of the full-text index, which keep its words in lower case).
    pub async fn rows_containing(&mut self, table: &str, column: &str, needle: &str) -> i64 {
        let as_text = format!("LOWER(CAST(\"{column}\" AS TEXT)) LIKE '%' || LOWER($1) || '%'");
        match self {
            Database::Sqlite(c) => {
                let text = format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE {as_text} \
                     OR INSTR(CAST(\"{column}\" AS BLOB), CAST(LOWER($1) AS BLOB)) > 0"
                );
                sqlx::query_scalar(&text).bind(needle).fetch_one(&mut *c).await.unwrap()
            }
            Database::Postgres(c) => {
                let text = format!("SELECT COUNT(*) FROM \"{table}\" WHERE {as_text}");
                sqlx::query_scalar(&text).bind(needle).fetch_one(&mut *c).await.unwrap()
            }
        }
    }

    /// Rows of `table` whose `column` is `id`.
    pub async fn rows_with(&mut self, table: &str, column: &str, id: i64) -> i64 {
        let text = format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" = $1");
        match self {
            Database::Sqlite(c) => sqlx::query_scalar(&text).bind(id).fetch_one(&mut *c).await.unwrap(),
            Database::Postgres(c) => sqlx::query_scalar(&text).bind(id).fetch_one(&mut *c).await.unwrap(),
        }
    }

    /// Runs a statement taking one id (a test setting up a state only a stopped node leaves).
    pub async fn execute(&mut self, text: &str, id: i64) {
        match self {
            Database::Sqlite(c) => drop(sqlx::query(text).bind(id).execute(&mut *c).await.unwrap()),
            Database::Postgres(c) => drop(sqlx::query(text).bind(id).execute(&mut *c).await.unwrap()),
        }
    }

    /// One number, for checks of a single row.
    pub async fn number(&mut self, text: &str, id: i64) -> i64 {
        match self {
            Database::Sqlite(c) => sqlx::query_scalar(text).bind(id).fetch_one(&mut *c).await.unwrap(),
            Database::Postgres(c) => sqlx::query_scalar(text).bind(id).fetch_one(&mut *c).await.unwrap(),
        }
    }
}

/// The tables docs/privacy.md's table of what is stored names.
pub fn documented_tables() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/privacy.md"))
        .expect("docs/privacy.md exists");
    doc.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Whether docs/privacy.md accounts for `table` (SQLite's full-text index pages,
/// `messages_fts_data` and the like, belong to `messages_fts`).
pub fn documented(documented: &BTreeSet<String>, table: &str) -> bool {
    documented.contains(table)
        || table.strip_prefix("messages_fts_").is_some_and(|_| documented.contains("messages_fts"))
}
