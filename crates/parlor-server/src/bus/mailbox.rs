//! A connection's mailbox: the bounded queue of events the hub puts in and the connection's task
//! takes out, the conversation the connection shows, and whether it must end. Both sides hold
//! the one `Arc`.
//!
//! One small allocation per connection, since every idle connection pays for it: tokio's
//! bounded channel, a cancellation token and the focus took ~940 bytes in three (the channel
//! allocates a block of 32 slots and pads its fields to cache lines); this is ~100 bytes, and
//! the queue's buffer exists only while events wait (docs/benchmarks.md, idle connections).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use futures_util::task::AtomicWaker;

use super::Outbound;

const OPEN: u8 = 0;
/// The hub let go of the connection (its queue overflowed): what is queued is still taken,
/// then the connection ends.
const DROPPED: u8 = 1;
/// The connection must end at once (its user was disabled, or its session revoked).
const KICKED: u8 = 2;

/// A queue that empties keeps a buffer of up to this many entries for the next burst; a larger
/// one (after a burst) is given back.
const KEPT_CAPACITY: usize = 8;

pub struct Mailbox {
    queue: Mutex<VecDeque<Arc<Outbound>>>,
    /// Most events [`Mailbox::put`] accepts while the connection has not taken them.
    capacity: usize,
    /// The connection's task, woken by a put or a state change.
    waker: AtomicWaker,
    state: AtomicU8,
    /// The conversation the connection shows (0: none), for notifications (`Hub::is_viewing`).
    focus: AtomicI64,
}

/// What the connection takes from its mailbox.
pub enum Mail {
    Event(Arc<Outbound>),
    /// The hub dropped the connection because its queue was full; everything queued before was
    /// taken.
    Dropped,
}

impl Mailbox {
    pub fn new(capacity: usize, focus: i64) -> Arc<Self> {
        Arc::new(Mailbox {
            queue: Mutex::new(VecDeque::new()),
            capacity,
            waker: AtomicWaker::new(),
            state: AtomicU8::new(OPEN),
            focus: AtomicI64::new(focus),
        })
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Arc<Outbound>>> {
        // Nothing panics while holding the lock, so a poisoned queue is still consistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an event for the connection; false when the queue is full (or the connection was
    /// let go), and the event is not queued.
    pub fn put(&self, out: Arc<Outbound>) -> bool {
        if self.state.load(Ordering::Acquire) != OPEN {
            return false;
        }
        {
            let mut queue = self.queue();
            if queue.len() >= self.capacity {
                return false;
            }
            queue.push_back(out);
        }
        self.waker.wake();
        true
    }

    /// Events waiting (metrics).
    pub fn queued(&self) -> usize {
        self.queue().len()
    }

    /// The hub lets go of the connection: it takes what is queued, then hears [`Mail::Dropped`].
    pub fn drop_connection(&self) {
        if self.state.compare_exchange(OPEN, DROPPED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.waker.wake();
        }
    }

    /// Ends the connection at once, queued events or not.
    pub fn kick(&self) {
        self.state.store(KICKED, Ordering::Release);
        self.waker.wake();
    }

    pub fn focus(&self) -> i64 {
        self.focus.load(Ordering::Relaxed)
    }

    pub fn set_focus(&self, focus: i64) {
        self.focus.store(focus, Ordering::Relaxed);
    }

    /// Resolves once the connection is kicked.
    pub async fn kicked(&self) {
        poll_fn(|cx| {
            if self.state.load(Ordering::Acquire) == KICKED {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.state.load(Ordering::Acquire) == KICKED { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
    }

    /// The next event, in the order they were put, or [`Mail::Dropped`] once the queue is
    /// empty and the hub let go. Only the connection's task calls this (one waker).
    pub async fn next(&self) -> Mail {
        poll_fn(|cx| {
            if let Some(mail) = self.take() {
                return Poll::Ready(mail);
            }
            self.waker.register(cx.waker());
            // A put between the first look and the registration would otherwise go unnoticed.
            match self.take() {
                Some(mail) => Poll::Ready(mail),
                None => Poll::Pending,
            }
        })
        .await
    }

    fn take(&self) -> Option<Mail> {
        // Read before the queue: a put that found the state open is in the queue by then.
        let dropped = self.state.load(Ordering::Acquire) != OPEN;
        let mut queue = self.queue();
        match queue.pop_front() {
            Some(out) => {
                if queue.is_empty() && queue.capacity() > KEPT_CAPACITY {
                    *queue = VecDeque::new();
                }
                Some(Mail::Event(out))
            }
            None if dropped => Some(Mail::Dropped),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Arc<Outbound> {
        Arc::new(Outbound::personal("{}".into()))
    }

    fn now<T>(future: impl Future<Output = T>) -> Option<T> {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_full_queue_refuses_and_a_dropped_connection_takes_what_was_queued_first() {
        let mailbox = Mailbox::new(2, 0);
        assert!(now(mailbox.next()).is_none());
        assert!(mailbox.put(event()) && mailbox.put(event()));
        assert!(!mailbox.put(event()), "full");
        assert_eq!(mailbox.queued(), 2);
        mailbox.drop_connection();
        assert!(!mailbox.put(event()), "let go");
        assert!(matches!(now(mailbox.next()), Some(Mail::Event(_))));
        assert!(matches!(now(mailbox.next()), Some(Mail::Event(_))));
        assert!(matches!(now(mailbox.next()), Some(Mail::Dropped)));
        assert!(now(mailbox.kicked()).is_none());
    }

    #[test]
    fn a_kick_ends_at_once_and_a_burst_gives_its_buffer_back() {
        let mailbox = Mailbox::new(512, 7);
        assert_eq!(mailbox.focus(), 7);
        for _ in 0..100 {
            assert!(mailbox.put(event()));
        }
        while mailbox.queued() > 0 {
            assert!(matches!(now(mailbox.next()), Some(Mail::Event(_))));
        }
        assert_eq!(mailbox.queue().capacity(), 0);
        mailbox.kick();
        assert!(now(mailbox.kicked()).is_some());
        assert!(!mailbox.put(event()));
    }
}
