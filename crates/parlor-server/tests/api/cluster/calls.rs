//! A call across nodes: the caller's node runs it; the callee's devices on two nodes both ring,
//! the one that answers on the other node is reached through the bus (its accept and signals
//! go to the caller's node, the caller's signals come back to that device only).

use serde_json::{Value, json};

use super::harness::Cluster;
use crate::helpers::Ws;

/// The next call frame (others skipped), which must be of type `kind`.
async fn call_frame(ws: &mut Ws, kind: &str) -> Value {
    let is_call = |f: &Value| f["type"].as_str().is_some_and(|t| t.starts_with("call_") || t == "error");
    let frame = ws.next_matching(kind, is_call).await;
    assert_eq!(frame["type"], kind, "expected {kind}, got {frame}");
    frame
}

#[tokio::test]
async fn a_call_between_nodes_rings_both_and_relays_to_the_device_that_answered() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (alice, bob) = (a.register("alice").await, b.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    let mut caller = a.ws(&alice.token).await;
    let (mut phone, mut laptop) = (a.ws(&bob.token).await, b.ws(&bob.token).await);

    caller.send(json!({"type": "call_invite", "conversation_id": dm, "media": "video"})).await;
    let invited = call_frame(&mut caller, "call_invited").await;
    let (call, caller_peer) = (invited["call_id"].clone(), invited["peer"].clone());
    call_frame(&mut phone, "call_incoming").await;
    assert_eq!(call_frame(&mut laptop, "call_incoming").await["call_id"], call, "rung on the other node too");

    laptop.send(json!({"type": "call_accept", "call_id": call})).await;
    assert_eq!(call_frame(&mut phone, "call_ended").await["reason"], "answered_elsewhere");
    let accepted = call_frame(&mut caller, "call_accepted").await;
    let laptop_peer = accepted["peer"].clone();
    assert_eq!(call_frame(&mut laptop, "call_accepted").await["peer"], laptop_peer);

    let offer = json!({"sdp": {"type": "offer", "sdp": "v=0\r\n"}});
    caller.send(json!({"type": "call_signal", "call_id": call, "to": laptop_peer, "data": offer})).await;
    assert_eq!(call_frame(&mut laptop, "call_signal").await["data"], offer);
    laptop.send(json!({"type": "call_signal", "call_id": call, "to": caller_peer, "data": {"candidate": "c"}})).await;
    assert_eq!(call_frame(&mut caller, "call_signal").await["from"], laptop_peer);
    phone.expect_quiet(300).await;

    // The callee's device on the other node goes away: the call ends for the caller.
    laptop.close().await;
    assert_eq!(call_frame(&mut caller, "call_ended").await["reason"], "hangup");
}
