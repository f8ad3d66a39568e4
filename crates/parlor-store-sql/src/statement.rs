//! A statement and its arguments, built alike for every backend, and the rows it returns.
//!
//! Placeholders are PostgreSQL's `$1, $2, ...`, which SQLite reads as well, so a statement's
//! text is the same in both dialects. Arguments are kept as [`Value`]s until a backend's
//! [`Driver`] binds them: shared code never names a database type.

use std::borrow::Cow;
use std::fmt::Write as _;

use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::driver::Driver as _;

/// One argument of a statement. `None` binds a typed NULL.
#[derive(Debug, Clone)]
pub enum Value<'q> {
    Int(Option<i64>),
    Text(Option<Cow<'q, str>>),
    Bool(bool),
    Bytes(Cow<'q, [u8]>),
}

/// What may be bound to a placeholder.
pub trait Arg<'q> {
    fn into_value(self) -> Value<'q>;
}

impl<'q> Arg<'q> for i64 {
    fn into_value(self) -> Value<'q> {
        Value::Int(Some(self))
    }
}

impl<'q> Arg<'q> for Option<i64> {
    fn into_value(self) -> Value<'q> {
        Value::Int(self)
    }
}

/// Limits and counts: every backend stores them as 64-bit integers.
impl<'q> Arg<'q> for u32 {
    fn into_value(self) -> Value<'q> {
        Value::Int(Some(i64::from(self)))
    }
}

impl<'q> Arg<'q> for bool {
    fn into_value(self) -> Value<'q> {
        Value::Bool(self)
    }
}

impl<'q> Arg<'q> for &'q str {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self)))
    }
}

impl<'q> Arg<'q> for &'q String {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Borrowed(self)))
    }
}

impl<'q> Arg<'q> for String {
    fn into_value(self) -> Value<'q> {
        Value::Text(Some(Cow::Owned(self)))
    }
}

impl<'q> Arg<'q> for Option<&'q str> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.map(Cow::Borrowed))
    }
}

impl<'q> Arg<'q> for Option<String> {
    fn into_value(self) -> Value<'q> {
        Value::Text(self.map(Cow::Owned))
    }
}

impl<'q> Arg<'q> for &'q [u8] {
    fn into_value(self) -> Value<'q> {
        Value::Bytes(Cow::Borrowed(self))
    }
}

/// A statement: its text, its arguments in placeholder order, and what a unique-index
/// violation means to the caller, if anything.
#[derive(Debug, Clone)]
pub struct Statement<'q> {
    text: Cow<'q, str>,
    args: Vec<Value<'q>>,
    conflict: Option<&'static str>,
}

/// A statement whose placeholders are written in its text; [`Statement::bind`] fills them in
/// order.
pub fn sql<'q>(text: impl Into<Cow<'q, str>>) -> Statement<'q> {
    Statement { text: text.into(), args: Vec::new(), conflict: None }
}

impl<'q> Statement<'q> {
    /// The argument of the next placeholder.
    pub fn bind(mut self, value: impl Arg<'q>) -> Self {
        self.args.push(value.into_value());
        self
    }

    /// A unique-index violation fails with `StoreError::Conflict(field)` instead of a
    /// backend error.
    pub fn conflict(mut self, field: &'static str) -> Self {
        self.conflict = Some(field);
        self
    }

    /// Appends text (for statements built piece by piece).
    pub fn push(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.text.to_mut().push_str(text.as_ref());
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub fn push_bind(&mut self, value: impl Arg<'q>) -> &mut Self {
        self.args.push(value.into_value());
        let n = self.args.len();
        // Writing to a String cannot fail.
        let _ = write!(self.text.to_mut(), "${n}");
        self
    }

    /// Appends `$n, $n+1, ...`, one placeholder per value (an `IN (...)` list).
    pub fn push_list<A: Arg<'q>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn args(&self) -> &[Value<'q>] {
        &self.args
    }

    /// Runs the statement; returns how many rows it changed.
    pub async fn execute<B: Backend>(self, conn: &mut Conn<'_, B>) -> StoreResult<u64> {
        B::Db::execute(conn.raw, &self).await.map_err(|e| self.failed::<B>(e))
    }

    pub async fn fetch_all<B: Backend>(self, conn: &mut Conn<'_, B>) -> StoreResult<Vec<Row<B>>> {
        let found = B::Db::fetch_all(conn.raw, &self).await.map_err(|e| self.failed::<B>(e))?;
        Ok(found.into_iter().map(Row).collect())
    }

    pub async fn fetch_optional<B: Backend>(self, conn: &mut Conn<'_, B>) -> StoreResult<Option<Row<B>>> {
        let found = B::Db::fetch_optional(conn.raw, &self).await.map_err(|e| self.failed::<B>(e))?;
        Ok(found.map(Row))
    }

    /// As [`Statement::fetch_optional`], failing when there is no row.
    pub async fn fetch_one<B: Backend>(self, conn: &mut Conn<'_, B>) -> StoreResult<Row<B>> {
        let found = B::Db::fetch_optional(conn.raw, &self).await.map_err(|e| self.failed::<B>(e))?;
        found.map(Row).ok_or_else(|| B::error(sqlx::Error::RowNotFound))
    }

    fn failed<B: Backend>(&self, e: sqlx::Error) -> StoreError {
        match (&e, self.conflict) {
            (sqlx::Error::Database(d), Some(field)) if d.is_unique_violation() => StoreError::Conflict(field),
            _ => B::error(e),
        }
    }
}

/// A connection of backend `B` (or a transaction on one), lent to a few statements.
pub struct Conn<'c, B: Backend> {
    raw: &'c mut <B::Db as sqlx::Database>::Connection,
}

impl<'c, B: Backend> Conn<'c, B> {
    pub fn new(raw: &'c mut <B::Db as sqlx::Database>::Connection) -> Self {
        Self { raw }
    }

    /// The driver's connection, for a backend's own statements.
    pub fn raw(&mut self) -> &mut <B::Db as sqlx::Database>::Connection {
        self.raw
    }
}

/// A row a statement returned.
pub struct Row<B: Backend>(pub <B::Db as sqlx::Database>::Row);

impl<B: Backend> Row<B> {
    /// The column at `index` (a position or a name), as `T`.
    pub fn get<T: FromColumn>(&self, index: impl ColumnIndex) -> StoreResult<T> {
        T::from_column::<B>(&self.0, index.column())
    }
}

/// Where a column is: by position or by name.
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    At(usize),
    Named(&'a str),
}

pub trait ColumnIndex {
    fn column(&self) -> Column<'_>;
}

impl ColumnIndex for usize {
    fn column(&self) -> Column<'_> {
        Column::At(*self)
    }
}

impl ColumnIndex for &str {
    fn column(&self) -> Column<'_> {
        Column::Named(self)
    }
}

/// What a column can be read as.
pub trait FromColumn: Sized {
    fn from_column<B: Backend>(row: &<B::Db as sqlx::Database>::Row, at: Column<'_>) -> StoreResult<Self>;
}

impl FromColumn for Option<i64> {
    fn from_column<B: Backend>(row: &<B::Db as sqlx::Database>::Row, at: Column<'_>) -> StoreResult<Self> {
        B::Db::int(row, at).map_err(B::error)
    }
}

impl FromColumn for i64 {
    fn from_column<B: Backend>(row: &<B::Db as sqlx::Database>::Row, at: Column<'_>) -> StoreResult<Self> {
        Option::<i64>::from_column::<B>(row, at)?.ok_or_else(|| null(at))
    }
}

impl FromColumn for Option<String> {
    fn from_column<B: Backend>(row: &<B::Db as sqlx::Database>::Row, at: Column<'_>) -> StoreResult<Self> {
        B::Db::text(row, at).map_err(B::error)
    }
}

impl FromColumn for String {
    fn from_column<B: Backend>(row: &<B::Db as sqlx::Database>::Row, at: Column<'_>) -> StoreResult<Self> {
        Option::<String>::from_column::<B>(row, at)?.ok_or_else(|| null(at))
    }
}

fn null(at: Column<'_>) -> StoreError {
    crate::rows::corrupt(format!("unexpected NULL in column {at:?}"))
}
