//! Conformance checks for search: what a message search matches and how it ranks, filters,
//! pages and excerpts; that it shows each user only what they may read, and follows edits and
//! deletes at once; and finding conversations by name.

use parlor_core::{
    AttachmentFilter, AttachmentKind, Context, ConversationId, Message, MessageBody, MessageHit, MessageId,
    NewAttachment, RoomTitle, SearchQuery, User,
};

use super::{create_user, direct, let_the_clock_tick, message_of, message_to, send, three_users};
use crate::{MemberChange, MessageSearch, NewRoom, SearchPage, Store};

pub async fn check_message_search(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let fix = send(store, ab, &alice, "Fix the kitchen sink before Friday").await;
    let cafe = send(store, ab, &bob, "The Café near the KITCHEN is closed").await;
    let sinks = send(store, ab, &alice, "sink sink sink").await;
    send(store, ab, &bob, "nothing relevant here").await;

    assert_eq!(sorted(found(store, &alice, "kitchen").await), sorted([fix.id, cafe.id]), "words match ignoring case");
    assert_eq!(found(store, &alice, "cafe").await, [cafe.id], "words match ignoring diacritics");
    assert_eq!(sorted(found(store, &alice, "KITCH").await), sorted([fix.id, cafe.id]), "a term matches word starts");
    assert_eq!(found(store, &alice, "kitchen sink").await, [fix.id], "every term must match");
    assert_eq!(found(store, &alice, "ki").await, [], "terms under three characters match whole words only");
    assert_eq!(found(store, &alice, "IS").await, [cafe.id], "and do match those");
    assert_eq!(found(store, &alice, "sink").await, [sinks.id, fix.id], "the better match ranks first (bm25)");
    assert_eq!(found(store, &alice, "\"sink\"").await, [sinks.id, fix.id], "quotes are just characters");
    for syntax in ["sink OR nothing", "NEAR(sink kitchen)", "content:sink", "-sink", "^sink", "sink*", "(", "\"", "*"] {
        let result = store.search_messages(&search(&alice, syntax)).await;
        let ids: Vec<MessageId> =
            result.expect("query syntax is never interpreted").iter().map(|h| h.message.id).collect();
        assert!(!ids.contains(&cafe.id), "{syntax:?} is text, not FTS syntax, and matches no unrelated message");
    }
    assert_eq!(found(store, &alice, "sink OR nothing").await, [], "OR is a word to find, not an operator");

    let first = send(store, ab, &alice, "duplicate words").await;
    let second = send(store, ab, &bob, "duplicate words").await;
    assert_eq!(found(store, &alice, "duplicate").await, [second.id, first.id], "equal matches: newest first");

    let hits = store.search_messages(&search(&alice, "kitchen sink")).await.expect("search_messages");
    assert_eq!(hits[0].message, fix, "a hit carries the message as message(id) shows it");
    assert_eq!(hits[0].snippet, "Fix the \u{2}kitchen\u{3} \u{2}sink\u{3} before Friday", "matches are marked");
    let long = format!("{} the needle at the end", "hay ".repeat(60));
    let long = send(store, ab, &bob, &long).await;
    let hit = store.search_messages(&search(&alice, "needle")).await.expect("search_messages").remove(0);
    assert_eq!(hit.message.id, long.id);
    assert!(hit.snippet.starts_with('…'), "a long message is cut around the match: {:?}", hit.snippet);
    assert!(hit.snippet.contains("\u{2}needle\u{3}"), "the excerpt shows the match: {:?}", hit.snippet);
    assert!(hit.snippet.len() < long.content.len(), "the excerpt is shorter than the message");

    let page = |offset| MessageSearch { limit: 1, offset, ..search(&alice, "sink") };
    assert_eq!(ids(store, page(0)).await, [sinks.id], "limit cuts the ranked list");
    assert_eq!(ids(store, page(1)).await, [fix.id], "offset skips into it");
    assert_eq!(ids(store, page(2)).await, [], "past the end is empty");

    let tiles = send(store, ac, &carol, "kitchen tiles").await;
    let kitchen = || search(&alice, "kitchen");
    assert_eq!(
        sorted(ids(store, kitchen()).await),
        sorted([fix.id, cafe.id, tiles.id]),
        "all the user's conversations"
    );
    let only_ac = MessageSearch { conversation: Some(ac), ..kitchen() };
    assert_eq!(ids(store, only_ac).await, [tiles.id], "filtered by conversation");
    let from_bob = MessageSearch { sender: Some(bob.id), ..kitchen() };
    assert_eq!(ids(store, from_bob).await, [cafe.id], "filtered by sender");

    let_the_clock_tick().await;
    let one = send(store, ac, &alice, "dated one").await;
    let_the_clock_tick().await;
    let two = send(store, ac, &alice, "dated two").await;
    let_the_clock_tick().await;
    let three = send(store, ac, &alice, "dated three").await;
    let dated = || search(&alice, "dated");
    let after = MessageSearch { after: Some(one.created_at), ..dated() };
    assert_eq!(sorted(ids(store, after).await), sorted([two.id, three.id]), "after is exclusive");
    let before = MessageSearch { before: Some(three.created_at), ..dated() };
    assert_eq!(sorted(ids(store, before).await), sorted([one.id, two.id]), "before is exclusive");
    let between = MessageSearch { after: Some(one.created_at), before: Some(three.created_at), ..dated() };
    assert_eq!(ids(store, between).await, [two.id], "after and before together");

    let photo = send_file(store, ac, &carol, "kitchen photo", AttachmentKind::Image).await;
    let plan = send_file(store, ac, &alice, "kitchen plan", AttachmentKind::File).await;
    let with = |has| MessageSearch { has: Some(has), ..kitchen() };
    let any = ids(store, with(AttachmentFilter::Any)).await;
    assert_eq!(sorted(any), sorted([photo.id, plan.id]), "has: any attachment");
    assert_eq!(ids(store, with(AttachmentFilter::Kind(AttachmentKind::Image))).await, [photo.id], "has: images");
    assert_eq!(ids(store, with(AttachmentFilter::Kind(AttachmentKind::Voice))).await, [], "has: voice notes");
}

pub async fn check_search_visibility(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dave = create_user(store, "dave", "Dave").await;
    let alpha = send(store, direct(store, &alice, &bob).await, &alice, "secret plan alpha").await;
    let beta = send(store, direct(store, &carol, &dave).await, &carol, "secret plan beta").await;
    let room = room(store, &alice, "Plans", &[&bob, &carol]).await;
    let gamma = send(store, room, &bob, "secret plan gamma").await;
    store.change_members(room, alice.id, MemberChange::Remove(carol.id)).await.expect("remove carol");
    let delta = send(store, room, &alice, "secret plan delta").await;

    let seen = |user| async move { sorted(found(store, user, "secret plan").await) };
    assert_eq!(seen(&alice).await, sorted([alpha.id, gamma.id, delta.id]), "members find their conversations'");
    assert_eq!(seen(&bob).await, sorted([alpha.id, gamma.id, delta.id]), "members find their conversations'");
    assert_eq!(seen(&carol).await, sorted([beta.id, gamma.id]), "a former member finds up to their departure");
    assert_eq!(seen(&dave).await, [beta.id], "nothing of conversations the user never belonged to");
    let foreign = MessageSearch { conversation: Some(room), ..search(&dave, "secret") };
    assert_eq!(ids(store, foreign).await, [], "naming someone else's conversation finds nothing");
    let by_alice = MessageSearch { sender: Some(alice.id), ..search(&dave, "secret") };
    assert_eq!(ids(store, by_alice).await, [], "naming a sender does not widen what one may read");

    assert_eq!(found(store, &alice, "created").await, [], "system messages are not searched");
    assert_eq!(found(store, &alice, "removed").await, [], "system messages are not searched");

    store.change_members(room, alice.id, MemberChange::Add(vec![carol.id])).await.expect("add carol back");
    assert_eq!(seen(&carol).await, sorted([beta.id, gamma.id, delta.id]), "as history: re-added members read all");
}

pub async fn check_search_follows_edits_and_deletes(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let draft = send(store, ab, &alice, "the first draft").await;
    let other = send(store, ab, &bob, "another draft").await;

    store.edit_message(draft.id, &body("the final version")).await.expect("edit_message");
    assert_eq!(found(store, &bob, "first").await, [], "an edit forgets the old words at once");
    let hits = store.search_messages(&search(&bob, "final")).await.expect("search_messages");
    assert_eq!(hits.iter().map(|h| h.message.id).collect::<Vec<_>>(), [draft.id], "and finds the new ones");
    assert_eq!(hits[0].message.content, "the final version", "the hit shows the edited text");
    assert_eq!(hits[0].snippet, "the \u{2}final\u{3} version", "the excerpt is of the edited text");

    store.delete_message(draft.id).await.expect("delete_message");
    assert_eq!(found(store, &bob, "final").await, [], "a deleted message is never found");
    assert_eq!(found(store, &bob, "draft").await, [other.id], "deleting leaves other messages findable");
    store.edit_message(other.id, &body("another draft, edited")).await.expect("edit_message");
    assert_eq!(found(store, &bob, "edited draft").await, [other.id], "edits of older messages are indexed too");
}

pub async fn check_conversation_search(store: &dyn Store) {
    let alice = create_user(store, "alice", "Alice").await;
    let bob = create_user(store, "bob", "Robert Émile").await;
    let carol = create_user(store, "carol", "Carol").await;
    let dave = create_user(store, "dave", "Dave").await;
    let with_bob = direct(store, &alice, &bob).await;
    let with_carol = direct(store, &alice, &carol).await;
    let fans = room(store, &alice, "Bigkitchen fans", &[&carol]).await;
    let_the_clock_tick().await;
    let the_kitchen = room(store, &alice, "The kitchen", &[&carol]).await;
    let_the_clock_tick().await;
    let tiles = Context::parse("job", "7", Some("Kitchen tiles")).expect("valid context");
    let (job, _) = store.get_or_create_by_context(&tiles, &[dave.id], alice.id).await.expect("by context");
    let_the_clock_tick().await;
    let crew = room(store, &alice, "Kitchen crew", &[&bob]).await;
    let_the_clock_tick().await;
    let exact = room(store, &alice, "KITCHEN", &[&bob]).await;

    assert_eq!(
        titles(store, &alice, "kitchen", 10).await,
        [exact, crew, job, the_kitchen, fans],
        "whole names, then starts, then word starts, then the rest; newest first within each"
    );
    assert_eq!(titles(store, &alice, "kitchen", 2).await, [exact, crew], "the limit keeps the best");
    assert_eq!(titles(store, &alice, "ÉMILE", 10).await, [with_bob], "a direct conversation by the other's name");
    assert_eq!(titles(store, &alice, "bob", 10).await, [with_bob], "or their username");
    assert_eq!(titles(store, &bob, "alice", 10).await, [with_bob], "each side finds the other");
    assert_eq!(titles(store, &alice, "alice", 10).await, [], "never by the caller's own name");
    assert_eq!(titles(store, &carol, "crew", 10).await, [], "never a conversation the user is not in");
    assert_eq!(titles(store, &carol, "ALI", 10).await, [with_carol], "a prefix of the other's name, ignoring case");
    assert_eq!(titles(store, &dave, "tiles", 10).await, [job], "a direct conversation by its context's title");

    store.change_members(crew, bob.id, MemberChange::Leave).await.expect("bob leaves");
    assert_eq!(titles(store, &bob, "crew", 10).await, [crew], "former members still find it, as in their list");
    let overview = store.search_conversations(bob.id, &query("crew"), 10).await.expect("search").remove(0);
    assert!(!overview.membership.active, "and see it as former members");
}

// --- helpers ---

/// Pages of a message search: the newest matches in windows, each ranked best first; pages by
/// cursor or offset neither repeat nor miss a hit, a message sent after the first page shifts
/// none of the pages that follow, and only what the user may read is found.
pub async fn check_search_pages(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let bc = direct(store, &bob, &carol).await;
    let mut sent = Vec::new();
    for i in 0..8 {
        let text = if i % 3 == 0 { "echo echo" } else { "echo and a few more words" };
        sent.push(send(store, ab, if i % 2 == 0 { &alice } else { &bob }, text).await.id);
    }
    send(store, bc, &carol, "echo echo echo").await;
    // Windows of 3, newest first: [7 6 5] [4 3 2] [1 0]; in each, "echo echo" first, then newest.
    let expected: Vec<MessageId> = [6, 7, 5, 3, 4, 2, 0, 1].iter().map(|&i| sent[i]).collect();
    let echo = |limit, offset, below| MessageSearch { limit, offset, below, window: 3, ..search(&alice, "echo") };

    let all = store.search_message_page(&echo(50, 0, None)).await.expect("search_message_page");
    assert_eq!(all.hits.iter().map(|h| h.message.id).collect::<Vec<_>>(), expected, "ranked window by window");
    assert_eq!(all.next, None, "nothing follows the last page");

    let first = store.search_message_page(&echo(2, 0, None)).await.expect("first page");
    let later = send(store, ab, &bob, "echo echo echo").await;
    let paged = by_cursor(store, first, |skip, below| echo(2, skip, Some(below))).await;
    assert_eq!(paged, expected, "by cursor: every hit once, in order, unshifted by a later message");

    let fresh = store.search_message_page(&echo(3, 0, None)).await.expect("search_message_page");
    assert!(fresh.hits.iter().any(|h| h.message.id == later.id), "a new search starts with the newest window");
    let mut by_offset = Vec::new();
    for offset in (0..10).step_by(3) {
        let page = store.search_message_page(&echo(3, offset, None)).await.expect("offset page");
        by_offset.extend(page.hits.iter().map(|h| h.message.id));
        assert_eq!(page.next.is_some(), offset + 3 < 9, "at offset {offset}");
    }
    assert_eq!(by_offset.len(), 9, "by offset: every hit once");
    assert!(sorted(by_offset).into_iter().eq(sorted(expected.iter().copied().chain([later.id]))));
}

/// A searcher whose conversations hold few of the server's messages finds what they would on a
/// quiet server. (SQLite then indexes their messages on the spot rather than read the server's
/// index newest first until enough matches are theirs; small pages by cursor still read the
/// server's index: the two must agree.) Their matches ranked and paged as ever, a former
/// member's up to their departure, never a deleted one, and nothing of the busy conversation.
pub async fn check_search_among_many(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dave = create_user(store, "dave", "Dave").await;
    let busy = direct(store, &carol, &dave).await;
    let mut pending = Vec::new();
    for i in 0..400 {
        let from = if i % 2 == 0 { &carol } else { &dave };
        pending
            .push(store.submit_message(message_to(busy, from, "echo echo in the busy kitchen")).await.expect("submit"));
    }
    for stored in pending {
        stored.await.expect("stored");
    }
    let room = room(store, &bob, "Echoes", &[&alice]).await;
    let kept = send(store, room, &bob, "echo echo from the room").await.id;
    store.change_members(room, bob.id, MemberChange::Remove(alice.id)).await.expect("remove alice");
    send(store, room, &bob, "echo after alice left").await;
    let ab = direct(store, &alice, &bob).await;
    let mut sent = Vec::new();
    for i in 0..8 {
        let text = if i % 3 == 0 { "echo echo" } else { "echo and a few more words" };
        sent.push(send(store, ab, if i % 2 == 0 { &alice } else { &bob }, text).await.id);
    }
    let gone = send(store, ab, &bob, "echo echo to delete").await;
    store.delete_message(gone.id).await.expect("delete_message");
    // Windows of 3, newest first: [7 6 5] [4 3 2] [1 0 kept]; in each, two echoes first.
    let expected: Vec<MessageId> = [6, 7, 5, 3, 4, 2, 0].iter().map(|&i| sent[i]).chain([kept, sent[1]]).collect();
    let echo = |limit, offset, below| MessageSearch { limit, offset, below, window: 3, ..search(&alice, "echo") };

    let all = store.search_message_page(&echo(50, 0, None)).await.expect("search_message_page");
    assert_eq!(all.hits.iter().map(|h| h.message.id).collect::<Vec<_>>(), expected, "ranked window by window");
    assert_eq!(all.next, None, "nothing follows the last page");
    let first = store.search_message_page(&echo(2, 0, None)).await.expect("first page");
    let paged = by_cursor(store, first, |skip, below| echo(2, skip, Some(below))).await;
    assert_eq!(paged, expected, "by cursor: every hit once, in order");

    let only_ab = MessageSearch { conversation: Some(ab), ..search(&alice, "echo") };
    assert_eq!(sorted(ids(store, only_ab).await), sorted(sent.clone()), "filtered by conversation");
    let from_bob = MessageSearch { sender: Some(bob.id), ..search(&alice, "echo") };
    let bobs = sent.iter().skip(1).step_by(2).copied().chain([kept]);
    assert_eq!(sorted(ids(store, from_bob).await), sorted(bobs), "filtered by sender");
    let hits = store.search_messages(&search(&alice, "echo from")).await.expect("search_messages");
    assert_eq!(hits.iter().map(|h| h.message.id).collect::<Vec<_>>(), [kept]);
    assert_eq!(hits[0].snippet, "\u{2}echo\u{3} \u{2}echo\u{3} \u{2}from\u{3} the room", "matches are marked");
    assert_eq!(found(store, &alice, "kitchen").await, [], "nothing of a conversation the searcher is not in");
    assert_eq!(found(store, &alice, "left").await, [], "nothing after a former member's departure");
    assert_eq!(found(store, &alice, "delete").await, [], "nothing deleted");
    let in_busy = MessageSearch { conversation: Some(busy), ..search(&alice, "echo") };
    assert_eq!(ids(store, in_busy).await, [], "naming someone else's conversation finds nothing");
    assert_eq!(found(store, &carol, "kitchen").await.len(), 50, "the busy conversation's own members find it");
}

/// The hits of `page` and of every page after it, each asked for by the previous one's cursor
/// (`next(skip, below)` is the search for it).
async fn by_cursor(
    store: &dyn Store,
    mut page: SearchPage,
    next: impl Fn(u32, MessageId) -> MessageSearch,
) -> Vec<MessageId> {
    let mut paged = Vec::new();
    loop {
        paged.extend(page.hits.iter().map(|h| h.message.id));
        let Some(cursor) = page.next else { return paged };
        assert!(paged.len() < 20, "the pages end");
        page = store.search_message_page(&next(cursor.skip, cursor.below)).await.expect("next page");
    }
}

fn query(text: &str) -> SearchQuery {
    SearchQuery::parse(text).expect("valid search query")
}

pub(super) fn search(user: &User, text: &str) -> MessageSearch {
    MessageSearch {
        user: user.id,
        query: query(text),
        conversation: None,
        sender: None,
        after: None,
        before: None,
        has: None,
        limit: 50,
        offset: 0,
        below: None,
        window: MessageSearch::WINDOW,
    }
}

async fn ids(store: &dyn Store, search: MessageSearch) -> Vec<MessageId> {
    let hits: Vec<MessageHit> = store.search_messages(&search).await.expect("search_messages");
    hits.iter().map(|h| h.message.id).collect()
}

async fn found(store: &dyn Store, user: &User, text: &str) -> Vec<MessageId> {
    ids(store, search(user, text)).await
}

async fn titles(store: &dyn Store, user: &User, text: &str, limit: u32) -> Vec<ConversationId> {
    let found = store.search_conversations(user.id, &query(text), limit).await.expect("search_conversations");
    found.iter().map(|o| o.conversation.id).collect()
}

fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.into_iter().collect();
    items.sort();
    items
}

fn body(text: &str) -> MessageBody {
    MessageBody::parse(text.to_owned(), 4000).expect("valid message body")
}

async fn room(store: &dyn Store, creator: &User, title: &str, others: &[&User]) -> ConversationId {
    let new = NewRoom {
        creator: creator.id,
        title: RoomTitle::parse(title).expect("valid room title"),
        avatar: None,
        members: others.iter().map(|u| u.id).collect(),
        context: None,
    };
    store.create_room(new).await.expect("create_room").0
}

async fn send_file(
    store: &dyn Store,
    conversation: ConversationId,
    sender: &User,
    caption: &str,
    kind: AttachmentKind,
) -> Message {
    let attachment = NewAttachment {
        kind,
        file_name: format!("{caption}.bin"),
        content_type: "application/octet-stream".into(),
        size: 10,
        width: None,
        height: None,
        blob_key: format!("attachments/{caption}"),
        thumbnail_key: None,
        sha256: "0".repeat(64),
    };
    let new = parlor_core::NewMessage { attachment: Some(attachment), ..message_to(conversation, sender, caption) };
    message_of(&store.append_message(new).await.expect("append_message")).clone()
}
