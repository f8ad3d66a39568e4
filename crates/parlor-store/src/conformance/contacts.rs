//! Conformance checks for contacts between users (requested by one, accepted by the other)
//! and for looking several users up at once, or finding people among one user's contacts.

use parlor_core::{Contact, ContactStatus, DirectPair, User, UserId};

use super::rooms::room_title;
use super::{UNKNOWN, create_user, three_users};
use crate::{MemberChange, NewRoom, Store, StoreError};

pub async fn check_contacts(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;

    let pending = store.request_contact(alice.id, bob.id).await.expect("request_contact");
    assert_eq!((pending.requester, pending.addressee), (alice.id, bob.id), "the request names who asked whom");
    assert_eq!(pending.status, ContactStatus::Pending, "a new request is pending");
    assert_eq!(contact(store, pending.id).await, Some(pending.clone()), "contact(id) finds the request");
    let twice = store.request_contact(alice.id, bob.id).await;
    assert!(matches!(twice, Err(StoreError::Conflict("contact"))), "asking twice is Conflict(contact), got {twice:?}");
    assert!(!are_contacts(store, &alice, &bob).await, "a pending request does not connect");
    assert!(!are_contacts(store, &bob, &alice).await, "a pending request does not connect either way");

    let accepted = store.request_contact(bob.id, alice.id).await.expect("request_contact");
    assert_eq!(accepted.status, ContactStatus::Accepted, "asking back accepts the pending request");
    assert_eq!(accepted.id, pending.id, "asking back accepts the existing contact, not a new one");
    assert_eq!(accepted.requester, alice.id, "the first to ask stays the requester");
    assert!(are_contacts(store, &alice, &bob).await, "an accepted contact connects");
    assert!(are_contacts(store, &bob, &alice).await, "contacts work both ways");
    assert!(!are_contacts(store, &alice, &carol).await, "others stay unconnected");
    for (from, to) in [(&alice, &bob), (&bob, &alice)] {
        let again = store.request_contact(from.id, to.id).await;
        assert!(
            matches!(again, Err(StoreError::Conflict("contact"))),
            "asking an accepted contact is Conflict(contact), got {again:?}"
        );
    }

    let from_carol = store.request_contact(carol.id, alice.id).await.expect("request_contact");
    assert_eq!(from_carol.status, ContactStatus::Pending, "a new request is pending");
    assert_eq!(contact_ids(store, &alice).await, sorted_ids([pending.id, from_carol.id]), "alice's contacts");
    assert_eq!(contact_ids(store, &bob).await, [pending.id], "bob's contacts");
    assert_eq!(contact_ids(store, &carol).await, [from_carol.id], "contacts lists pending requests too");
    let listed = store.contacts(bob.id).await.expect("connections");
    assert_eq!(listed, std::slice::from_ref(&accepted), "connections returns the connections as stored");

    let accepted = store.accept_contact(from_carol.id).await.expect("accept_contact");
    assert_eq!(accepted.status, ContactStatus::Accepted, "accept_contact accepts");
    assert_eq!((accepted.id, accepted.requester), (from_carol.id, carol.id), "accepting keeps id and requester");
    assert!(are_contacts(store, &carol, &alice).await, "an accepted request connects");

    store.delete_contact(from_carol.id).await.expect("delete_contact");
    assert!(!are_contacts(store, &carol, &alice).await, "a deleted connection no longer connects");
    assert_eq!(contact(store, from_carol.id).await, None, "a deleted connection is gone");
    assert_eq!(contact_ids(store, &carol).await, Vec::<i64>::new(), "a deleted connection is no longer listed");
    for id in [from_carol.id, UNKNOWN] {
        let deleted = store.delete_contact(id).await;
        assert!(
            matches!(deleted, Err(StoreError::NotFound)),
            "deleting an unknown connection is NotFound, got {deleted:?}"
        );
    }
    let again = store.request_contact(carol.id, alice.id).await.expect("request_contact");
    assert_eq!(again.status, ContactStatus::Pending, "after a delete the pair can ask again");

    let nobody = store.request_contact(alice.id, UserId(UNKNOWN)).await;
    assert!(matches!(nobody, Err(StoreError::NotFound)), "asking an unknown user is NotFound, got {nobody:?}");
}

pub async fn check_users_by_ids(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dave = create_user(store, "dave", "Dave").await;

    let found = by_ids(store, &[alice.id, UserId(UNKNOWN), carol.id]).await;
    assert_eq!(found, by_id([alice.clone(), carol.clone()]), "users(ids) returns those users and skips unknown ids");
    let everyone = by_ids(store, &[dave.id, carol.id, bob.id, alice.id]).await;
    assert_eq!(everyone, by_id([alice, bob, carol, dave]), "users(ids) returns every user asked for");
    assert_eq!(by_ids(store, &[]).await, [], "users(no ids) is empty");
    assert_eq!(by_ids(store, &[UserId(UNKNOWN)]).await, [], "users(only unknown ids) is empty");
}

async fn contact(store: &dyn Store, id: i64) -> Option<Contact> {
    store.contact(id).await.expect("contact")
}

async fn are_contacts(store: &dyn Store, a: &User, b: &User) -> bool {
    store.are_contacts(a.id, b.id).await.expect("connected")
}

async fn contact_ids(store: &dyn Store, user: &User) -> Vec<i64> {
    sorted_ids(store.contacts(user.id).await.expect("connections").iter().map(|c| c.id))
}

fn sorted_ids(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids
}

async fn by_ids(store: &dyn Store, ids: &[UserId]) -> Vec<User> {
    by_id(store.users(ids).await.expect("users"))
}

/// Users in id order, since `users` promises no order.
fn by_id(users: impl IntoIterator<Item = User>) -> Vec<User> {
    let mut users: Vec<User> = users.into_iter().collect();
    users.sort_by_key(|u| u.id);
    users
}

pub async fn check_user_search_among(store: &dyn Store) {
    let alice = create_user(store, "alice", "Alice").await;
    let in_dm = create_user(store, "bob", "Person Bob").await;
    let asking = create_user(store, "carol", "Person Carol").await;
    let stranger = create_user(store, "dave", "Person Dave").await;
    let removed = create_user(store, "erin", "Person Erin").await;
    let in_room = create_user(store, "frank", "Person Frank").await;
    store.get_or_create_direct(DirectPair::new(alice.id, in_dm.id).expect("pair")).await.expect("direct");
    store.request_contact(asking.id, alice.id).await.expect("request_contact");
    let new = NewRoom {
        creator: alice.id,
        title: room_title("Crew"),
        avatar: None,
        members: vec![removed.id, in_room.id],
        context: None,
    };
    let (room, _) = store.create_room(new).await.expect("create_room");
    store.change_members(room, alice.id, MemberChange::Remove(removed.id)).await.expect("remove");
    let among = |query: &'static str| async move {
        let found = store.search_users(query, 10, Some(alice.id)).await.expect("search_users");
        found.iter().map(|u| u.id).collect::<Vec<_>>()
    };
    assert_eq!(
        among("person").await,
        [in_dm.id, asking.id, in_room.id],
        "among a user: a DM, a connection (pending too) and a room shared now, by name; not someone removed"
    );
    assert_eq!(among("DAVE").await, [stranger.id], "and whoever has exactly that username, ignoring case");
    assert_eq!(among("dav").await, [], "but only exactly");
    assert_eq!(among("erin").await, [removed.id], "exactly is exactly, whoever it is");
    let everyone = store.search_users("person", 10, None).await.expect("search_users");
    assert_eq!(everyone.len(), 5, "without `among`, everyone");
}
