//! Waiting for what happens in the background: one helper, [`eventually`], instead of a
//! deadline loop in every test.

use std::time::Duration;

/// What a poll of [`eventually`] found: settled (with its value) or not yet (with what was seen,
/// for the failure message).
pub trait Settled {
    type Value;
    fn settled(self) -> Result<Self::Value, Option<String>>;
}

impl Settled for bool {
    type Value = ();
    fn settled(self) -> Result<(), Option<String>> {
        if self { Ok(()) } else { Err(None) }
    }
}

impl<T> Settled for Option<T> {
    type Value = T;
    fn settled(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: std::fmt::Display> Settled for Result<T, E> {
    type Value = T;
    fn settled(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(seen.to_string()))
    }
}

/// The one way tests wait for something that happens in the background: polls `check` until it
/// settles (`true`, `Some(value)` or `Ok(value)`) and returns the value; fails after `within`
/// with `what` and, when `check` said it (`Err(seen)`), what it saw last.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> <Fut::Output as Settled>::Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future,
    Fut::Output: Settled,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await.settled() {
            Ok(value) => return value,
            Err(seen) => {
                if tokio::time::Instant::now() >= deadline {
                    match seen {
                        Some(seen) => panic!("never happened within {within:?}: {what}; last seen: {seen}"),
                        None => panic!("never happened within {within:?}: {what}"),
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
