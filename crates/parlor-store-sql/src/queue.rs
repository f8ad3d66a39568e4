//! The batch writer's inbox, shared by both backends: the hot writes (messages, read
//! positions, delivery receipts) queue here, and each backend's writer task commits them in
//! batches and answers every caller once its batch committed.

use parlor_core::{ConversationEvent, ConversationId, NewMessage, UserId};
use parlor_store::{Appended, DeliveredUpTo, ReadOutcome, ReadUpTo, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// One queued write and where its answer goes.
pub enum Write {
    Append(Box<NewMessage>, oneshot::Sender<StoreResult<Appended>>),
    MarkRead(ConversationId, UserId, ReadUpTo, bool, oneshot::Sender<StoreResult<ReadOutcome>>),
    MarkDeliveredMany(Vec<DeliveredUpTo>, oneshot::Sender<StoreResult<Vec<ConversationEvent>>>),
    /// `VACUUM`, between two batches (SQLite): writes queued meanwhile wait in the queue, not
    /// for the connection, so none times out behind a long vacuum.
    Vacuum(oneshot::Sender<StoreResult<()>>),
    /// Finish everything queued before this, then stop.
    Close(oneshot::Sender<()>),
}

impl Write {
    /// Answers with `e` (a caller that gave up waiting is fine).
    pub fn fail(self, e: StoreError) {
        match self {
            Write::Append(_, tx) => drop(tx.send(Err(e))),
            Write::MarkRead(.., tx) => drop(tx.send(Err(e))),
            Write::MarkDeliveredMany(_, tx) => drop(tx.send(Err(e))),
            Write::Vacuum(tx) => drop(tx.send(Err(e))),
            Write::Close(tx) => drop(tx.send(())),
        }
    }
}

/// What each caller of a failed batch hears: a locked database or a full disk by name (the
/// client can be told to retry, the operator what to fix), anything else as unavailable.
pub fn batch_failed(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        StoreError::Full => StoreError::Full,
        _ => StoreError::Unavailable,
    }
}

/// Stops the writer: every write queued after the `Close` in `rest`, or still in `inbox`, is
/// refused; returns the closers to tell once the connections are closed.
pub fn refuse_the_rest(rest: Vec<Write>, inbox: &mut mpsc::Receiver<Write>) -> Vec<oneshot::Sender<()>> {
    inbox.close();
    let mut closers = Vec::new();
    for write in rest.into_iter().chain(std::iter::from_fn(|| inbox.try_recv().ok())) {
        match write {
            Write::Close(tx) => closers.push(tx),
            other => other.fail(StoreError::Unavailable),
        }
    }
    closers
}

/// The sending side of the batch writer's inbox.
pub struct WriteQueue {
    inbox: mpsc::Sender<Write>,
}

/// A bounded inbox: when it is full, writers wait (backpressure instead of unbounded memory).
pub fn write_queue(capacity: usize) -> (WriteQueue, mpsc::Receiver<Write>) {
    let (inbox, rx) = mpsc::channel(capacity);
    (WriteQueue { inbox }, rx)
}

impl WriteQueue {
    /// Queues a message and returns where its answer will arrive. The inbox is one FIFO
    /// channel, so one caller's appends reach the writer in the order it submitted them.
    pub async fn submit(&self, new: NewMessage) -> StoreResult<oneshot::Receiver<StoreResult<Appended>>> {
        self.enqueue(|reply| Write::Append(Box::new(new), reply)).await
    }

    pub async fn mark_read(
        &self,
        id: ConversationId,
        user: UserId,
        up_to: ReadUpTo,
        log: bool,
    ) -> StoreResult<ReadOutcome> {
        self.send(|reply| Write::MarkRead(id, user, up_to, log, reply)).await
    }

    pub async fn mark_delivered_many(&self, receipts: Vec<DeliveredUpTo>) -> StoreResult<Vec<ConversationEvent>> {
        self.send(|reply| Write::MarkDeliveredMany(receipts, reply)).await
    }

    pub async fn vacuum(&self) -> StoreResult<()> {
        self.send(Write::Vacuum).await
    }

    /// Waits for the writer to finish what was queued before, then stop.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inbox.send(Write::Close(tx)).await.is_ok() {
            drop(rx.await);
        }
    }

    /// True once the writer stopped.
    pub fn is_closed(&self) -> bool {
        self.inbox.is_closed()
    }

    /// Writes waiting for the batch writer right now.
    pub fn len(&self) -> usize {
        self.inbox.max_capacity().saturating_sub(self.inbox.capacity())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn send<T>(&self, make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Write) -> StoreResult<T> {
        let answer = self.enqueue(make).await?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }

    /// Waits for room in the inbox (backpressure), queues the write, and returns where its
    /// answer will arrive.
    async fn enqueue<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Write,
    ) -> StoreResult<oneshot::Receiver<StoreResult<T>>> {
        let (tx, rx) = oneshot::channel();
        self.inbox.send(make(tx)).await.map_err(|_| StoreError::Unavailable)?;
        Ok(rx)
    }
}
