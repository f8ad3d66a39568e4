//! What an idle connection's task weighs. Its future is most of an idle connection's memory
//! (docs/benchmarks.md, idle connections; issue 22 asks for at most 4 KiB a connection), so a
//! change that grows it fails here and has to say why.

use std::mem::size_of;

use axum::extract::ws::WebSocket;
use parlor_core::{ConversationId, SessionId, User};

use super::connection::run;
use crate::state::AppState;

/// The size of what `f` returns, without calling it (a socket cannot be made here).
fn output_size<F, Fut>(_: &F) -> usize
where
    F: FnOnce(WebSocket, AppState, User, Option<SessionId>, Option<ConversationId>) -> Fut,
{
    size_of::<Fut>()
}

/// 1,208 bytes in debug and release builds alike when written (2,112 before `serve` stopped
/// being an `async fn` that owned the connection, which held it twice); about a third is the
/// socket (368) and the user (160).
const MAX_FUTURE_BYTES: usize = 1_280;

#[test]
fn the_connection_task_stays_small() {
    let task = output_size(&run);
    eprintln!("connection future: {task} bytes (WebSocket {}, User {})", size_of::<WebSocket>(), size_of::<User>());
    assert!(
        task <= MAX_FUTURE_BYTES,
        "the connection's future grew to {task} bytes (at most {MAX_FUTURE_BYTES}): every idle connection pays it; \
         box what grew (see gateway/connection.rs) or raise the bound and say why in docs/benchmarks.md"
    );
}
