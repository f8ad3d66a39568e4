//! Webhooks: every logged change to a conversation, delivered to the endpoints the host
//! platform registered. This module owns the delivery side: signing (`signing.rs`), one signed
//! POST per attempt (`delivery.rs`), retries with backoff (`retry.rs`) and the dispatcher that
//! walks the outbox per endpoint (`dispatcher.rs`). Endpoints are managed by
//! [`crate::service::Webhooks`]; the outbox is written by the store in the same transaction as
//! each change, so nothing is lost across restarts.
//!
//! **Invariant:** an endpoint's cursor moves past an event only after a 2xx answer (or when it
//! does not want that event), so delivery is at least once and in outbox order. A crash between
//! the answer and the cursor's write sends that event again; receivers dedupe on
//! `X-Parlor-Delivery`.

mod delivery;
mod dispatcher;
mod retry;
mod signing;

pub use dispatcher::Dispatcher;
pub use retry::Backoff;
pub use signing::signature_header;
