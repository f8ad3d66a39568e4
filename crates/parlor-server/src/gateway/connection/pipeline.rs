//! Pipelined sends: a socket's `chat_message`s are checked and queued for storage in the order
//! they arrive (`Messages::submit`), and the connection reads its next frame while they commit,
//! so a client sending fast shares a batch's commit among many of its messages instead of
//! waiting for one commit per message. What is left of each send (waiting for its commit, the
//! fan-out, the `ack` or error it is answered with: `Messages::finish_send`) is a future kept
//! here, in arrival order, and the connection writes their answers in that order.
//!
//! **Bounded.** At most [`MAX_IN_FLIGHT`] sends per socket, and at most half its `send_queue`
//! (the echoes of the sends in flight land in that queue while a frame waits for them): at the
//! bound the connection stops reading the socket until the oldest is answered, so a client
//! cannot queue without limit and TCP pushes back on it.
//!
//! **Fan-out does not wait for the sender.** Each send's commit, fan-out and notifications run
//! as a task of their own: the other members hear of a stored message even while its sender's
//! socket is slow to take its `ack`.
//!
//! **Answers in order.** A client never sees a later frame's answer before an earlier one's. An
//! error found before a send could be queued (an invalid frame, a non-member, a refused rate
//! limit) joins the line as a ready answer, in its place. Every other frame (read, typing, edit,
//! resume, ping, calls...) first waits until the sends before it are answered
//! (`Connection::settle`): its effect follows theirs (a read of "everything" covers them, an
//! edit finds its message) and its answers follow their acks. Simple, and sends are what a busy
//! socket mostly carries.
//!
//! **Idle costs nothing.** The line is allocated with a socket's first send in flight and
//! dropped when it empties (an idle connection's size matters: docs/benchmarks.md).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use parlor_core::ConversationId;
use parlor_protocol::{SendFrame, ServerFrame};
use parlor_store::Appended;
use tokio::sync::oneshot;

use super::{Connection, End, Step};
use crate::error::{ApiError, ApiResult};
use crate::service::{SendInput, Submitted};
use crate::state::AppState;

/// Sends one socket may have waiting for their commit.
pub(super) const MAX_IN_FLIGHT: usize = 64;

/// A frame's answer, once it is known: serialized, ready to write.
type Answer = Pin<Box<dyn Future<Output = Utf8Bytes> + Send>>;

/// The answers not yet written, oldest first.
#[derive(Default)]
pub(super) struct Pipeline {
    /// `None` while nothing is in flight (most of a connection's life).
    line: Option<Box<FuturesOrdered<Answer>>>,
    /// Resolves once the socket's latest send was announced: the next one waits for it, so the
    /// socket's messages are published in the order it sent them.
    announced: Option<oneshot::Receiver<()>>,
}

impl Pipeline {
    pub(super) fn is_empty(&self) -> bool {
        self.line.is_none()
    }

    /// At the bound: read no more frames until an answer is written.
    pub(super) fn is_full(&self, send_queue: usize) -> bool {
        let bound = (send_queue / 2).clamp(1, MAX_IN_FLIGHT);
        self.line.as_ref().is_some_and(|line| line.len() >= bound)
    }

    /// Queues the rest of a submitted send: its `ack` (or error) once it is stored.
    pub(super) fn push_send(&mut self, state: AppState, id: ConversationId, submitted: Submitted) {
        let (answered, answer) = oneshot::channel();
        let (done, announced) = oneshot::channel::<()>();
        let previous = self.announced.replace(announced);
        tokio::spawn(async move {
            let stored = state.messages.stored(submitted).await;
            let frame = match &stored {
                Ok(appended) => ack(id, appended).unwrap_or_else(|e| e.to_frame()),
                Err(e) => e.to_frame(),
            };
            // The ack is ready before the message's copies are queued, so on the sender's own
            // socket (which takes answers before events) it comes first.
            answered.send(Utf8Bytes::from(frame.to_json())).ok();
            // Published in the order sent: every reader, the sender's other sockets too, hears
            // this socket's messages in order (a task that failed drops its sender: no wait).
            if let Some(previous) = previous {
                previous.await.ok();
            }
            if let Ok(appended) = stored {
                state.messages.announce(&appended).await;
            }
            drop(done);
        });
        self.push(Box::pin(async move {
            // Only a panic (or the runtime stopping) ends the task without an answer.
            answer.await.unwrap_or_else(|_| Utf8Bytes::from(ApiError::internal().to_frame().to_json()))
        }));
    }

    /// Queues an answer already known (an error), behind the ones in flight.
    pub(super) fn push_ready(&mut self, frame: Utf8Bytes) {
        self.push(Box::pin(std::future::ready(frame)));
    }

    fn push(&mut self, answer: Answer) {
        self.line.get_or_insert_with(Box::default).push_back(answer);
    }

    /// The oldest answer, once it is known; never resolves while nothing is in flight (a
    /// `select!` branch: the connection's loop polls a new one after queuing a send).
    /// Cancel-safe: an answer is taken only when it is returned. A plain `poll_fn` rather than
    /// an `async fn`, which would keep a slot for the answer in every idle connection's task.
    pub(super) fn next(&mut self) -> impl Future<Output = Utf8Bytes> + Send + '_ {
        std::future::poll_fn(move |cx| {
            let Some(line) = self.line.as_mut() else { return Poll::Pending };
            let Poll::Ready(Some(answer)) = line.poll_next_unpin(cx) else { return Poll::Pending };
            if line.is_empty() {
                self.line = None;
            }
            Poll::Ready(answer)
        })
    }
}

impl Connection {
    /// Sends still in flight when the connection ends are stored all the same (they are queued):
    /// waiting for them lets each be fanned out and notified about like any other. Their answers
    /// are written while the socket takes them, unless the client is gone.
    pub(super) async fn settle_at_end(&mut self, end: &End) {
        let mut writing = matches!(end, End::Close(..));
        while !self.pipeline.is_empty() {
            let answer = self.pipeline.next().await;
            writing = writing && self.send_raw(answer).await.is_ok();
        }
    }

    /// Writes the answers of every send in flight, in order: before a frame that is not a send is
    /// handled (the module's doc).
    pub(super) async fn settle(&mut self) -> Step {
        while !self.pipeline.is_empty() {
            let answer = self.pipeline.next().await;
            self.send_raw(answer).await?;
        }
        Ok(())
    }

    /// Checks and queues a message; its `ack` (or error) is written when it is stored, in the
    /// order the frames came.
    pub(super) async fn on_send(&mut self, f: SendFrame) -> Step {
        let submitted = match self.target(f.conversation_id) {
            Ok(id) => {
                let input =
                    SendInput { content: f.content, reply_to: f.reply_to, client_id: f.client_id, forwarded: false };
                self.state.messages.submit(&self.user, id, input).await.map(|submitted| (id, submitted))
            }
            Err(e) => Err(e),
        };
        match submitted {
            Ok((id, submitted)) => {
                self.pipeline.push_send(self.state.clone(), id, submitted);
                Ok(())
            }
            Err(e) => self.answer_error(&e).await,
        }
    }

    /// Answers a frame: at once, or, with sends in flight, in its place behind their answers.
    pub(super) async fn answer(&mut self, frame: &ServerFrame) -> Step {
        let frame = Utf8Bytes::from(frame.to_json());
        if self.pipeline.is_empty() {
            return self.send_raw(frame).await;
        }
        self.pipeline.push_ready(frame);
        Ok(())
    }

    pub(super) async fn answer_error(&mut self, e: &ApiError) -> Step {
        self.answer(&e.to_frame()).await
    }
}

/// The `ack` of a stored message.
fn ack(id: ConversationId, appended: &Appended) -> ApiResult<ServerFrame> {
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok(ServerFrame::Ack {
        conversation_id: id,
        client_id: message.client_id.clone(),
        message_id: message.id,
        message_seq: message.seq,
        seq: appended.event.seq,
        created_at: message.created_at,
        duplicate: appended.duplicate,
    })
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    fn answer_on(rx: oneshot::Receiver<&'static str>) -> Answer {
        Box::pin(async move { Utf8Bytes::from_static(rx.await.unwrap_or("dropped")) })
    }

    #[tokio::test]
    async fn answers_leave_in_arrival_order_whatever_order_they_finish_in() {
        let mut pipeline = Pipeline::default();
        let (first, second, third) = (oneshot::channel(), oneshot::channel(), oneshot::channel());
        pipeline.push(answer_on(first.1));
        pipeline.push(answer_on(second.1));
        pipeline.push_ready(Utf8Bytes::from_static("error"));
        pipeline.push(answer_on(third.1));
        // The last finishes first, the first last (as sends in other conversations can, on
        // PostgreSQL's lanes).
        third.0.send("third").ok();
        second.0.send("second").ok();
        first.0.send("first").ok();
        let mut got = Vec::new();
        while !pipeline.is_empty() {
            got.push(pipeline.next().await.as_str().to_owned());
        }
        assert_eq!(got, ["first", "second", "error", "third"]);
    }

    #[test]
    fn the_bound_is_half_the_send_queue_and_at_most_max_in_flight() {
        let mut pipeline = Pipeline::default();
        assert!(!pipeline.is_full(8), "an empty line is never full");
        for _ in 0..4 {
            pipeline.push_ready(Utf8Bytes::from_static("x"));
        }
        assert!(pipeline.is_full(8), "4 in flight fill a socket whose send_queue is 8");
        assert!(!pipeline.is_full(512));
        for _ in 4..MAX_IN_FLIGHT {
            pipeline.push_ready(Utf8Bytes::from_static("x"));
        }
        assert!(pipeline.is_full(512), "MAX_IN_FLIGHT is the bound of a large send_queue");
    }
}
