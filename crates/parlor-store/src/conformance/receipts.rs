//! Conformance checks for delivery receipts and the read and delivered positions of members.

use parlor_core::{ConversationId, EventKind, Seq, User};

use super::rooms::room;
use super::{direct, is_member, last_event_seq, mark_read, send, shape, three_users};
use crate::{DeliveredUpTo, MemberPosition, ReadUpTo, Store};

pub async fn check_delivery_receipts(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    for n in 1..=3 {
        send(store, ab, &bob, &format!("delivered {n}")).await;
    }
    assert_eq!(
        positions(store, ab).await,
        by_user([position(&alice, 0, 0), position(&bob, 3, 3)]),
        "the recipient starts with nothing read or delivered; the sender has read and received their own messages"
    );

    let event = delivered(store, ab, &alice, Seq(2)).await.expect("moving the delivered position logs an event");
    assert_eq!((event.conversation_id, event.seq), (ab, Seq(4)), "the receipt is logged after the messages");
    assert_eq!(
        event.kind,
        EventKind::MessagesDelivered { user_id: alice.id, up_to: Seq(2) },
        "MessagesDelivered says whose devices received how far"
    );
    assert_eq!(
        position_of(store, ab, &alice).await,
        position(&alice, 0, 2),
        "mark_delivered moves the delivered position"
    );
    assert!(delivered(store, ab, &alice, Seq(1)).await.is_none(), "delivered positions never move back");
    assert!(delivered(store, ab, &alice, Seq(2)).await.is_none(), "a receipt that moves nothing logs nothing");
    assert_eq!(last_event_seq(store, ab).await, Seq(4), "no-op receipts log nothing");

    let clamped = delivered(store, ab, &alice, Seq(99)).await.expect("the receipt moves to the newest message");
    assert_eq!(
        clamped.kind,
        EventKind::MessagesDelivered { user_id: alice.id, up_to: Seq(3) },
        "a receipt beyond the newest message stops at it"
    );
    assert_eq!(
        positions(store, ab).await,
        by_user([position(&alice, 0, 3), position(&bob, 3, 3)]),
        "positions show alice delivered 3 read 0, and bob read and delivered 3"
    );
    let overview = store.overview(ab, bob.id).await.expect("overview").expect("member overview");
    let alice_member = overview.members.iter().find(|m| m.user.id == alice.id).expect("alice is listed");
    assert_eq!(
        (alice_member.last_read_seq, alice_member.delivered_seq),
        (Seq(0), Seq(3)),
        "the overview's members carry the same positions"
    );

    mark_read(store, ab, &alice, ReadUpTo::Latest).await;
    assert_eq!(position_of(store, ab, &alice).await, position(&alice, 3, 3), "mark_read moves the read position");

    assert!(delivered(store, ab, &carol, Seq(3)).await.is_none(), "a non-member's receipt moves and logs nothing");
    let log = store.events_after(ab, Seq::ZERO, 10).await.expect("events_after");
    let expected = [
        (1, "message", 1),
        (2, "message", 2),
        (3, "message", 3),
        (4, "delivered", 2),
        (5, "delivered", 3),
        (6, "read", 3),
    ];
    assert_eq!(log.iter().map(shape).collect::<Vec<_>>(), expected, "receipts interleave with the log, gap-free");
}

async fn delivered(
    store: &dyn Store,
    id: ConversationId,
    user: &User,
    up_to: Seq,
) -> Option<parlor_core::ConversationEvent> {
    let receipt = DeliveredUpTo { conversation: id, user: user.id, up_to, log: true };
    let mut events = store.mark_delivered_many(&[receipt]).await.expect("mark_delivered_many");
    assert!(events.len() <= 1, "one receipt logs one event at most: {events:?}");
    events.pop()
}

/// Every member's positions, in user id order (the trait promises no order).
async fn positions(store: &dyn Store, id: ConversationId) -> Vec<MemberPosition> {
    by_user(store.positions(id).await.expect("positions"))
}

async fn position_of(store: &dyn Store, id: ConversationId, user: &User) -> MemberPosition {
    let found = store.positions(id).await.expect("positions").into_iter().find(|p| p.user_id == user.id);
    found.expect("positions lists every current member")
}

fn by_user(positions: impl IntoIterator<Item = MemberPosition>) -> Vec<MemberPosition> {
    let mut positions: Vec<MemberPosition> = positions.into_iter().collect();
    positions.sort_by_key(|p| p.user_id);
    positions
}

fn position(user: &User, read: i64, delivered: i64) -> MemberPosition {
    MemberPosition { user_id: user.id, last_read_seq: Seq(read), delivered_seq: Seq(delivered) }
}

/// Large rooms keep receipts as positions only: `log: false` moves them without an event.
pub async fn check_quiet_receipts(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    for n in 1..=3 {
        send(store, ab, &bob, &format!("quiet {n}")).await;
    }
    let before = last_event_seq(store, ab).await;
    let quiet = DeliveredUpTo { conversation: ab, user: alice.id, up_to: Seq(2), log: false };
    let delivered = store.mark_delivered_many(&[quiet]).await.expect("mark_delivered_many");
    assert!(delivered.is_empty(), "a quiet delivery receipt returns no event");
    let read = store.mark_read(ab, alice.id, crate::ReadUpTo::Latest, false).await.expect("mark_read");
    assert!(read.event.is_none(), "a quiet read receipt returns no event");
    assert_eq!((read.last_read_seq, read.unread_count), (parlor_core::Seq(3), 0), "but the position moved");
    assert_eq!(last_event_seq(store, ab).await, before, "and nothing was logged");
    let alice_position = positions(store, ab).await.into_iter().find(|p| p.user_id == alice.id).expect("alice");
    assert_eq!(
        (alice_position.delivered_seq, alice_position.last_read_seq),
        (parlor_core::Seq(2), parlor_core::Seq(3))
    );
}

pub async fn check_delivery_receipts_in_bulk(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let room = room(store, &alice, &[&bob, &carol]).await;
    let bc = direct(store, &bob, &carol).await;
    for n in 1..=3 {
        send(store, room, &bob, &format!("bulk {n}")).await;
    }
    send(store, bc, &bob, "to carol").await;
    let last_message =
        store.overview(room, alice.id).await.expect("overview").expect("member").conversation.last_message_seq;
    let room_before = last_event_seq(store, room).await;
    let bc_before = last_event_seq(store, bc).await;
    let receipt =
        |conversation, user: &User, up_to, log| DeliveredUpTo { conversation, user: user.id, up_to: Seq(up_to), log };
    let delivered = |positions: Vec<MemberPosition>, user: &User| {
        positions.into_iter().find(|p| p.user_id == user.id).map(|p| p.delivered_seq)
    };

    let events = store
        .mark_delivered_many(&[
            receipt(room, &alice, last_message.0 - 1, true),
            receipt(room, &carol, last_message.0, true),
            receipt(bc, &carol, 99, false),
            receipt(bc, &alice, 1, true),
            receipt(ConversationId(super::UNKNOWN), &alice, 1, true),
        ])
        .await
        .expect("mark_delivered_many");
    assert_eq!(delivered(positions(store, room).await, &alice), Some(Seq(last_message.0 - 1)), "a position moves");
    assert_eq!(delivered(positions(store, bc).await, &carol), Some(Seq(1)), "never past the last message");
    assert!(!is_member(store, bc, &alice).await, "a non-member's receipt is skipped");
    // Logged receipts that moved a position are numbered in the log, one after another.
    let mut numbered: Vec<(ConversationId, Seq)> = events.iter().map(|e| (e.conversation_id, e.seq)).collect();
    numbered.sort();
    let expected: Vec<(ConversationId, Seq)> = (1..=2).map(|n| (room, Seq(room_before.0 + n))).collect();
    assert_eq!(numbered, expected, "two receipts in one conversation, consecutive: {events:?}");
    let logged = store.events_after(room, room_before, 10).await.expect("events_after");
    assert_eq!(logged.len(), 2, "and stored in the log: {logged:?}");
    for event in &logged {
        assert!(events.contains(event), "the log holds what was returned: {event:?}");
        assert!(matches!(event.kind, EventKind::MessagesDelivered { .. }), "{event:?}");
    }
    assert_eq!(last_event_seq(store, bc).await, bc_before, "quiet receipts log nothing");

    let again = store.mark_delivered_many(&[receipt(room, &alice, 1, true)]).await.expect("mark_delivered_many");
    assert!(again.is_empty(), "a position that does not move logs nothing");
    assert_eq!(delivered(positions(store, room).await, &alice), Some(Seq(last_message.0 - 1)), "nor moves back");
    assert!(store.mark_delivered_many(&[]).await.expect("nothing at all").is_empty());
}
