//! [`PendingAppend`]: a message queued for storage and not yet stored, what
//! [`Store::submit_message`](crate::Store::submit_message) returns. Splitting "queued" from
//! "stored" lets a caller queue its next message while the previous one commits, and still have
//! them numbered in the order it queued them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::{Appended, StoreError, StoreResult};

/// Resolves to the append's outcome once the write committed (or failed): what
/// [`Store::append_message`](crate::Store::append_message) would have returned. Dropping it does
/// not withdraw the write: it is stored all the same, only nobody hears of it.
#[must_use = "the outcome says whether the message was stored"]
pub struct PendingAppend {
    /// Answered by the writer after its batch's commit; a writer that stopped without answering
    /// drops it, and the append is `Unavailable`.
    answer: oneshot::Receiver<StoreResult<Appended>>,
}

impl PendingAppend {
    /// The append whose outcome arrives on `answer`.
    pub fn queued(answer: oneshot::Receiver<StoreResult<Appended>>) -> Self {
        Self { answer }
    }
}

impl Future for PendingAppend {
    type Output = StoreResult<Appended>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.answer).poll(cx).map(|answer| answer.unwrap_or(Err(StoreError::Unavailable)))
    }
}
