//! Conformance checks for rooms: creating them, changing their members (with the system messages
//! that record it and the history former members keep), and changing their own settings.

use parlor_core::{
    AvatarUrl, ConversationEvent, ConversationId, ConversationKind, EventKind, Membership, Message, MessageKind,
    Reaction, Role, RoomTitle, Seq, SystemEvent, User, UserId,
};

use super::{
    UNKNOWN, create_user, direct, event_seqs, is_member, last_event_seq, message_of, message_to, send, sorted,
    three_users,
};
use crate::{
    Appended, ConversationFilter, ConversationPatch, MemberChange, NewRoom, ReadUpTo, RoomLook, Store, StoreError,
};

pub async fn check_rooms(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dave = create_user(store, "dave", "Dave").await;
    let avatar = AvatarUrl::parse("https://cdn.example/crew.png").expect("valid avatar");
    let new = NewRoom {
        creator: alice.id,
        title: room_title("Kitchen crew"),
        avatar: Some(avatar),
        members: vec![bob.id, carol.id],
        context: None,
    };
    let (id, appended) = store.create_room(new).await.expect("create_room");
    assert!(!appended.duplicate, "create_room's message is new");
    let created = message_of(&appended);
    assert_eq!(created.conversation_id, id, "the room_created message belongs to the new room");
    assert_eq!(
        (created.seq, appended.event.seq),
        (Seq(1), Seq(1)),
        "room_created is the room's first message and event"
    );
    assert_eq!(created.sender_id, alice.id, "the creator sends the room_created message");
    let system = system_of(created);
    assert_eq!(system.action, "room_created", "create_room logs a room_created system message");
    assert_eq!(system.actor_id, alice.id, "room_created names the creator as actor");
    assert_eq!(sorted(system.user_ids.clone()), sorted([bob.id, carol.id]), "room_created lists the others added");
    let stored = store.message(created.id).await.expect("message").expect("the room_created message is stored");
    assert_eq!(&stored, created, "message(id) returns the room_created message as create_room did");
    let events = store.events_after(id, Seq::ZERO, 10).await.expect("events_after");
    assert_eq!(events, std::slice::from_ref(&appended.event), "the new room's log holds just the room_created event");

    let members = sorted(store.member_ids(id).await.expect("member_ids"));
    assert_eq!(members, sorted([alice.id, bob.id, carol.id]), "the creator and the given users are members");
    assert!(is_member(store, id, &bob).await, "bob is a member");
    assert!(!is_member(store, id, &dave).await, "dave was not added");
    let owner = Membership { role: Role::Owner, active: true, visible_until: None, muted: false };
    assert_eq!(membership(store, id, &alice).await, Some(owner), "the creator is an active owner");
    let member = Membership { role: Role::Member, active: true, visible_until: None, muted: false };
    assert_eq!(membership(store, id, &bob).await, Some(member), "the others are active plain members");
    assert_eq!(membership(store, id, &dave).await, None, "a user who never belonged has no membership");

    let overview = store.overview(id, bob.id).await.expect("overview").expect("room members get an overview");
    let room = &overview.conversation;
    assert_eq!((room.id, room.kind), (id, ConversationKind::Room), "create_room makes a room");
    assert_eq!(room.title.as_deref(), Some("Kitchen crew"), "the overview carries the room's title");
    assert_eq!(room.avatar.as_deref(), Some("https://cdn.example/crew.png"), "the overview carries the avatar");
    assert_eq!((&room.context, room.archived_at), (&None, None), "a plain room has no context and is not archived");
    assert_eq!(room.last_message_seq, Seq(1), "the room_created message is counted");
    let mut roles: Vec<(UserId, Role)> = overview.members.iter().map(|m| (m.user.id, m.role)).collect();
    roles.sort();
    let expected = sorted_roles([(alice.id, Role::Owner), (bob.id, Role::Member), (carol.id, Role::Member)]);
    assert_eq!(roles, expected, "the overview lists all three members with their roles");
    assert_eq!(overview.last_message.as_ref(), Some(created), "the overview shows room_created as the last message");
    assert!(store.overview(id, dave.id).await.expect("overview").is_none(), "outsiders get no overview of a room");
}

pub async fn check_membership_changes(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dave = create_user(store, "dave", "Dave").await;
    let erin = create_user(store, "erin", "Erin").await;
    let id = room(store, &alice, &[&bob, &carol]).await;

    let added = change(store, id, &alice, MemberChange::Add(vec![dave.id])).await;
    assert_system(&added, "members_added", &alice, &[dave.id]);
    assert!(is_member(store, id, &dave).await, "an added user is a member");
    let again = store.change_members(id, alice.id, MemberChange::Add(vec![bob.id])).await;
    assert!(
        matches!(again, Err(StoreError::Rule("already_members"))),
        "adding only current members is Rule(already_members), got {again:?}"
    );
    let ghost = store.change_members(id, alice.id, MemberChange::Add(vec![UserId(UNKNOWN)])).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "adding an unknown user is NotFound, got {ghost:?}");

    send(store, id, &carol, "before bob goes").await;
    let removed = change(store, id, &alice, MemberChange::Remove(bob.id)).await;
    assert_system(&removed, "member_removed", &alice, &[bob.id]);
    let removal = message_of(&removed);
    assert_eq!(
        sorted(store.member_ids(id).await.expect("member_ids")),
        sorted([alice.id, carol.id, dave.id]),
        "a removed member is no longer listed in member_ids"
    );
    assert!(!is_member(store, id, &bob).await, "a removed member is not a member");
    let former = membership(store, id, &bob).await.expect("a former member keeps a membership record");
    assert!(!former.active, "a removed member's membership is inactive");
    assert_eq!(
        former.visible_until,
        Some((removal.seq, removed.event.seq)),
        "a removed member may read up to and including the removal message and its event"
    );
    let positions = store.positions(id).await.expect("positions");
    assert!(!positions.iter().any(|p| p.user_id == bob.id), "positions lists current members only");
    assert_eq!(positions.len(), 3, "positions lists every current member");
    let again = store.change_members(id, alice.id, MemberChange::Remove(bob.id)).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "removing a former member is NotFound, got {again:?}");

    let before = store.overview(id, bob.id).await.expect("overview").expect("former members keep their overview");
    assert!(!before.membership.active, "the former member's overview shows their inactive membership");
    assert_eq!(before.last_message.as_ref().map(|m| m.id), Some(removal.id), "their last message is the removal");
    assert_eq!(before.unread_count(), removal.seq.0, "unread counts up to the cutoff (bob read nothing)");
    let listed = store.list_overviews(bob.id, &ConversationFilter { limit: 10, ..Default::default() }).await;
    let listed: Vec<ConversationId> = listed.expect("list_overviews").iter().map(|o| o.conversation.id).collect();
    assert_eq!(listed, [id], "list_overviews keeps conversations the user was removed from");

    let later = send(store, id, &alice, "after bob left").await;
    let after = store.overview(id, bob.id).await.expect("overview").expect("former members keep their overview");
    assert_eq!(after.conversation.last_message_seq, later.seq, "the conversation itself moved on");
    assert_eq!(after.last_message.as_ref().map(|m| m.id), Some(removal.id), "later messages stay hidden from bob");
    assert_eq!(after.unread_count(), before.unread_count(), "messages after the cutoff are not unread for bob");

    let denied = store.append_message(message_to(id, &bob, "am I still here?")).await;
    assert!(matches!(denied, Err(StoreError::NotFound)), "former members cannot send, got {denied:?}");
    let unread = store.mark_read(id, bob.id, ReadUpTo::Latest, true).await;
    assert!(matches!(unread, Err(StoreError::NotFound)), "former members cannot mark read, got {unread:?}");

    let last_owner = [
        (alice.id, MemberChange::Leave),
        (carol.id, MemberChange::Remove(alice.id)),
        (alice.id, MemberChange::SetRole(alice.id, Role::Member)),
    ];
    for (actor, change) in last_owner {
        let refused = store.change_members(id, actor, change.clone()).await;
        assert!(
            matches!(refused, Err(StoreError::Rule("last_owner"))),
            "{change:?} would leave the room without an owner: Rule(last_owner), got {refused:?}"
        );
    }
    assert!(is_member(store, id, &alice).await, "a refused change leaves the owner in place");

    let promoted = change(store, id, &alice, MemberChange::SetRole(carol.id, Role::Owner)).await;
    assert_system(&promoted, "role_changed", &alice, &[carol.id]);
    let role = system_of(message_of(&promoted)).role.clone();
    assert_eq!(role.as_deref(), Some("owner"), "role_changed names the new role");
    let carol_role = membership(store, id, &carol).await.map(|m| m.role);
    assert_eq!(carol_role, Some(Role::Owner), "SetRole changes the role");
    let left = change(store, id, &alice, MemberChange::Leave).await;
    assert_system(&left, "member_left", &alice, &[alice.id]);
    assert!(!is_member(store, id, &alice).await, "an owner may leave once another owner exists");
    let alice_left = membership(store, id, &alice).await.expect("a former member keeps a membership record");
    let cutoff = Some((message_of(&left).seq, left.event.seq));
    assert_eq!((alice_left.active, alice_left.visible_until), (false, cutoff), "leaving ends the membership");

    for target in [bob.id, erin.id, UserId(UNKNOWN)] {
        let result = store.change_members(id, carol.id, MemberChange::SetRole(target, Role::Admin)).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "SetRole on a non-member is NotFound, got {result:?}");
    }
    let ab = direct(store, &alice, &bob).await;
    let not_a_room = store.change_members(ab, alice.id, MemberChange::Add(vec![carol.id])).await;
    assert!(
        matches!(not_a_room, Err(StoreError::Rule("not_a_room"))),
        "direct conversations have fixed members: Rule(not_a_room), got {not_a_room:?}"
    );

    let back = change(store, id, &carol, MemberChange::Add(vec![bob.id])).await;
    assert_system(&back, "members_added", &carol, &[bob.id]);
    assert!(is_member(store, id, &bob).await, "a former member can be added back");
    let rejoined = membership(store, id, &bob).await.expect("membership");
    assert_eq!((rejoined.active, rejoined.visible_until), (true, None), "re-adding lifts the cutoff");
    send(store, id, &bob, "I'm back").await;

    let log = store.events_after(id, Seq::ZERO, 100).await.expect("events_after");
    let count = log.len() as i64;
    assert_eq!(event_seqs(&log), (1..=count).collect::<Vec<_>>(), "membership changes keep the log gap-free");
}

pub async fn check_update_conversation(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let avatar = AvatarUrl::parse("https://cdn.example/old.png").expect("valid avatar");
    let new = NewRoom {
        creator: alice.id,
        title: room_title("Old name"),
        avatar: Some(avatar),
        members: vec![bob.id],
        context: None,
    };
    let (id, _) = store.create_room(new).await.expect("create_room");
    let mut returned = Vec::new();

    let rename = ConversationPatch { title: Some(room_title("New name")), ..Default::default() };
    let (event, appended) = update(store, id, &alice, &rename).await.expect("a new title is a change");
    assert_eq!(event.conversation_id, id, "the update event belongs to the room");
    assert_eq!(
        event.kind,
        updated(Some("New name"), Some("https://cdn.example/old.png"), false),
        "ConversationUpdated carries the new title and the values left as they were"
    );
    assert_system(&appended, "room_renamed", &alice, &[]);
    assert_eq!(title_of(store, id, &bob).await.as_deref(), Some("New name"), "the overview shows the new title");
    returned.push(event);
    let seq_before = last_event_seq(store, id).await;
    assert!(update(store, id, &alice, &rename).await.is_none(), "the same title again changes nothing: None");
    let empty = ConversationPatch::default();
    assert!(update(store, id, &alice, &empty).await.is_none(), "an empty patch changes nothing: None");
    assert_eq!(last_event_seq(store, id).await, seq_before, "a no-op update logs nothing");

    let before = send(store, id, &bob, "before the archive").await;
    let archive = ConversationPatch { archived: Some(true), ..Default::default() };
    let (event, appended) = update(store, id, &alice, &archive).await.expect("archiving is a change");
    let refused = store.append_message(message_to(id, &bob, "while archived")).await;
    assert!(matches!(refused, Err(StoreError::Rule("archived"))), "an archived room refuses messages: {refused:?}");
    let body = parlor_core::MessageBody::parse("edited".into(), 100).expect("valid body");
    let refused = store.edit_message(before.id, &body).await;
    assert!(matches!(refused, Err(StoreError::Rule("archived"))), "an archived room refuses edits: {refused:?}");
    let emoji = parlor_core::Emoji::parse("👍").expect("valid emoji");
    let refused = store.toggle_reaction(before.id, alice.id, &emoji).await;
    assert!(matches!(refused, Err(StoreError::Rule("archived"))), "an archived room refuses reactions: {refused:?}");
    let expected = updated(Some("New name"), Some("https://cdn.example/old.png"), true);
    assert_eq!(event.kind, expected, "ConversationUpdated says the room is archived");
    assert_system(&appended, "archived", &alice, &[]);
    assert!(archived_at(store, id, &bob).await.is_some(), "archiving sets archived_at");
    returned.push(event);
    assert!(update(store, id, &alice, &archive).await.is_none(), "archiving an archived room changes nothing");

    let unarchive = ConversationPatch { archived: Some(false), ..Default::default() };
    let (event, appended) = update(store, id, &alice, &unarchive).await.expect("unarchiving is a change");
    let expected = updated(Some("New name"), Some("https://cdn.example/old.png"), false);
    assert_eq!(event.kind, expected, "ConversationUpdated says the room is no longer archived");
    assert_system(&appended, "unarchived", &alice, &[]);
    assert!(archived_at(store, id, &bob).await.is_none(), "unarchiving clears archived_at");
    returned.push(event);

    let clear = ConversationPatch { avatar: Some(None), ..Default::default() };
    let (event, appended) = update(store, id, &alice, &clear).await.expect("clearing the avatar is a change");
    assert_eq!(event.kind, updated(Some("New name"), None, false), "ConversationUpdated shows the avatar cleared");
    assert_system(&appended, "avatar_changed", &alice, &[]);
    let overview = store.overview(id, bob.id).await.expect("overview").expect("member overview");
    assert_eq!(overview.conversation.avatar, None, "avatar Some(None) clears the room's avatar");
    returned.push(event);

    let log = store.events_after(id, Seq::ZERO, 100).await.expect("events_after");
    let count = log.len() as i64;
    assert_eq!(event_seqs(&log), (1..=count).collect::<Vec<_>>(), "updates keep the log gap-free");
    let logged: Vec<ConversationEvent> =
        log.into_iter().filter(|e| matches!(e.kind, EventKind::ConversationUpdated { .. })).collect();
    assert_eq!(logged, returned, "the log holds exactly the ConversationUpdated events update_conversation returned");
}

// --- helpers shared with the other room checks ---

pub(super) fn room_title(title: &str) -> RoomTitle {
    RoomTitle::parse(title).expect("valid room title")
}

/// A room without avatar or context, owned by `creator`.
pub async fn check_a_room_as_it_was(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let avatar = AvatarUrl::parse("https://cdn.example/team.png").expect("valid avatar");
    let new = NewRoom {
        creator: alice.id,
        title: room_title("Team"),
        avatar: Some(avatar),
        members: vec![bob.id, carol.id],
        context: None,
    };
    let (id, _) = store.create_room(new).await.expect("create_room");
    let edited = send(store, id, &alice, "first draft").await;
    let deleted = send(store, id, &alice, "soon gone").await;
    let emoji = |e: &str| parlor_core::Emoji::parse(e).expect("emoji");
    store.toggle_reaction(deleted.id, bob.id, &emoji("👍")).await.expect("react");
    store.toggle_reaction(edited.id, bob.id, &emoji("👀")).await.expect("react");
    let body = |t: &str| parlor_core::MessageBody::parse(t.to_owned(), 4000).expect("body");
    store.edit_message(edited.id, &body("second draft")).await.expect("edit");
    let cutoff = last_event_seq(store, id).await;
    assert!(store.look_as_of(id, cutoff).await.expect("look_as_of").is_none(), "unchanged since: None");

    store.edit_message(edited.id, &body("third draft")).await.expect("edit");
    store.toggle_reaction(edited.id, bob.id, &emoji("👀")).await.expect("unreact");
    store.toggle_reaction(edited.id, carol.id, &emoji("🎉")).await.expect("react");
    store.delete_message(deleted.id).await.expect("delete");
    let rename = ConversationPatch { title: Some(room_title("Renamed")), archived: Some(true), ..Default::default() };
    update(store, id, &alice, &rename).await.expect("a change");

    let now = |id| async move { store.message(id).await.expect("message").expect("stored") };
    let mut then = vec![now(edited.id).await, now(deleted.id).await];
    assert_eq!((then[0].content.as_str(), then[1].deleted_at.is_some()), ("third draft", true), "as it is now");
    store.messages_as_of(id, cutoff, &mut then).await.expect("messages_as_of");
    assert_eq!(then[0].content, "second draft", "the text it had at the cutoff");
    assert!(then[0].edited_at.is_some(), "edited before the cutoff: still marked edited");
    assert_eq!(then[0].reactions, [Reaction { emoji: "👀".into(), user_ids: vec![bob.id] }], "reactions then");
    assert_eq!((then[1].content.as_str(), then[1].deleted_at), ("soon gone", None), "deleted since: not for them");
    assert_eq!(then[1].reactions, [Reaction { emoji: "👍".into(), user_ids: vec![bob.id] }]);
    let first = Seq(cutoff.0 - 3);
    let mut earlier = vec![now(edited.id).await];
    store.messages_as_of(id, first, &mut earlier).await.expect("messages_as_of");
    assert_eq!((earlier[0].content.as_str(), earlier[0].edited_at), ("first draft", None), "before any edit");

    let look = store.look_as_of(id, cutoff).await.expect("look_as_of").expect("changed since");
    assert_eq!(
        look,
        RoomLook {
            title: Some("Team".into()),
            avatar: Some("https://cdn.example/team.png".into()),
            archived: false,
            since: None
        },
        "the room before its first change"
    );
    let later = last_event_seq(store, id).await;
    let unarchive = ConversationPatch { archived: Some(false), ..Default::default() };
    update(store, id, &alice, &unarchive).await.expect("a change");
    let look = store.look_as_of(id, later).await.expect("look_as_of").expect("changed since");
    assert_eq!((look.title.as_deref(), look.archived), (Some("Renamed"), true), "as the last change before left it");
    assert!(look.since.is_some());
}

pub(super) async fn room(store: &dyn Store, creator: &User, others: &[&User]) -> ConversationId {
    let new = NewRoom {
        creator: creator.id,
        title: room_title("A room"),
        avatar: None,
        members: others.iter().map(|u| u.id).collect(),
        context: None,
    };
    store.create_room(new).await.expect("create_room").0
}

pub(super) async fn membership(store: &dyn Store, id: ConversationId, user: &User) -> Option<Membership> {
    store.membership(id, user.id).await.expect("membership")
}

pub(super) fn system_of(message: &Message) -> &SystemEvent {
    match &message.kind {
        MessageKind::System(event) => event,
        MessageKind::Text | MessageKind::Call(_) => panic!("expected a system message, got {:?}", message.content),
    }
}

async fn change(store: &dyn Store, id: ConversationId, actor: &User, change: MemberChange) -> Appended {
    store.change_members(id, actor.id, change).await.expect("change_members")
}

/// Asserts that `appended` is a new system message recording `action` by `actor` about `users`.
fn assert_system(appended: &Appended, action: &str, actor: &User, users: &[UserId]) {
    assert!(!appended.duplicate, "{action}: a system message is never a duplicate");
    let message = message_of(appended);
    let system = system_of(message);
    assert_eq!(system.action, action, "the system message records {action}");
    assert_eq!(system.actor_id, actor.id, "{action}: the system message names the actor");
    assert_eq!(sorted(system.user_ids.clone()), sorted(users.iter().copied()), "{action}: the users it is about");
}

async fn update(
    store: &dyn Store,
    id: ConversationId,
    actor: &User,
    patch: &ConversationPatch,
) -> Option<(ConversationEvent, Appended)> {
    store.update_conversation(id, actor.id, patch).await.expect("update_conversation")
}

fn updated(title: Option<&str>, avatar: Option<&str>, archived: bool) -> EventKind {
    EventKind::ConversationUpdated { title: title.map(str::to_owned), avatar: avatar.map(str::to_owned), archived }
}

async fn title_of(store: &dyn Store, id: ConversationId, viewer: &User) -> Option<String> {
    store.overview(id, viewer.id).await.expect("overview").expect("member overview").conversation.title
}

async fn archived_at(store: &dyn Store, id: ConversationId, viewer: &User) -> Option<parlor_core::Timestamp> {
    store.overview(id, viewer.id).await.expect("overview").expect("member overview").conversation.archived_at
}

fn sorted_roles(roles: impl IntoIterator<Item = (UserId, Role)>) -> Vec<(UserId, Role)> {
    let mut roles: Vec<(UserId, Role)> = roles.into_iter().collect();
    roles.sort();
    roles
}
