//! How a [`Statement`] meets sqlx: its arguments bound, run on a connection, its columns read.
//! The same few lines for each database sqlx drives, stamped by [`driver!`], so the shared
//! statements never carry sqlx's per-type bounds.

use std::future::Future;

use sqlx::{Database, Row as _};

use crate::statement::{Column, Statement, Value};

/// A database sqlx drives, as the shared statements use it.
pub trait Driver: Database {
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        statement: &'c Statement<'_>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;
    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        statement: &'c Statement<'_>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c;
    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        statement: &'c Statement<'_>,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send + 'c;
    fn int(row: &Self::Row, at: Column<'_>) -> Result<Option<i64>, sqlx::Error>;
    fn text(row: &Self::Row, at: Column<'_>) -> Result<Option<String>, sqlx::Error>;
}

macro_rules! driver {
    ($db:ty) => {
        impl Driver for $db {
            fn execute<'c>(
                conn: &'c mut Self::Connection,
                statement: &'c Statement<'_>,
            ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move { Ok(bound::<$db>(statement).execute(conn).await?.rows_affected()) }
            }

            fn fetch_all<'c>(
                conn: &'c mut Self::Connection,
                statement: &'c Statement<'_>,
            ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c {
                bound::<$db>(statement).fetch_all(conn)
            }

            fn fetch_optional<'c>(
                conn: &'c mut Self::Connection,
                statement: &'c Statement<'_>,
            ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send + 'c {
                bound::<$db>(statement).fetch_optional(conn)
            }

            fn int(row: &Self::Row, at: Column<'_>) -> Result<Option<i64>, sqlx::Error> {
                match at {
                    Column::At(i) => row.try_get(i),
                    Column::Named(name) => row.try_get(name),
                }
            }

            fn text(row: &Self::Row, at: Column<'_>) -> Result<Option<String>, sqlx::Error> {
                match at {
                    Column::At(i) => row.try_get(i),
                    Column::Named(name) => row.try_get(name),
                }
            }
        }
    };
}

driver!(sqlx::Sqlite);
driver!(sqlx::Postgres);

type Query<'a, DB> = sqlx::query::Query<'a, DB, <DB as Database>::Arguments<'a>>;

/// The statement as sqlx's query, its arguments bound in order.
fn bound<'a, DB>(statement: &'a Statement<'_>) -> Query<'a, DB>
where
    DB: Database,
    Option<i64>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    statement.args().iter().fold(sqlx::query(statement.text()), |query, value| match value {
        Value::Int(i) => query.bind(*i),
        Value::Text(t) => query.bind(t.as_deref()),
        Value::Bool(b) => query.bind(*b),
        Value::Bytes(b) => query.bind(b.as_ref()),
    })
}
