//! Conformance checks for conversations linked to a context on the host platform (a job, an
//! order...): one per context and set of participants, direct for two, a room for more.

use parlor_core::{Context, ConversationId, ConversationKind, DirectPair, Role, UserId};

use super::rooms::membership;
use super::{sorted, three_users};
use crate::{ConversationFilter, Store};

pub async fn check_context_conversations(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let job = context("job", "42", Some("Fix the sink"));

    let (id, created) = by_context(store, &job, &[alice.id, bob.id], alice.id).await;
    assert!(created, "the first get_or_create_by_context creates the conversation");
    let overview = store.overview(id, alice.id).await.expect("overview").expect("participants get an overview");
    assert_eq!(overview.conversation.kind, ConversationKind::Direct, "two participants make a direct conversation");
    assert_eq!(overview.conversation.context.as_ref(), Some(&job), "the conversation carries its context");
    let members = sorted(store.member_ids(id).await.expect("member_ids"));
    assert_eq!(members, sorted([alice.id, bob.id]), "the participants are the members");

    let reordered = by_context(store, &job, &[bob.id, alice.id], alice.id).await;
    assert_eq!(reordered, (id, false), "participants in another order find the same conversation");
    let creator_omitted = by_context(store, &job, &[bob.id], alice.id).await;
    assert_eq!(creator_omitted, (id, false), "the creator counts as a participant even when not listed");
    let other_creator = by_context(store, &job, &[alice.id, bob.id], bob.id).await;
    assert_eq!(other_creator, (id, false), "the same participants find the same conversation, whoever asks");

    let (with_carol, created) = by_context(store, &job, &[alice.id, carol.id], alice.id).await;
    assert!(created && with_carol != id, "other participants get another conversation of the same context");
    let job_43 = context("job", "43", None);
    let (other_job, created) = by_context(store, &job_43, &[alice.id, bob.id], alice.id).await;
    assert!(created && other_job != id, "another external id gets another conversation");
    let order_42 = context("order", "42", None);
    let (order, created) = by_context(store, &order_42, &[alice.id, bob.id], alice.id).await;
    assert!(created && order != id && order != other_job, "another context type gets another conversation");

    let (group, created) = by_context(store, &job, &[alice.id, bob.id, carol.id], bob.id).await;
    assert!(created && ![id, with_carol].contains(&group), "three participants get their own conversation");
    let overview = store.overview(group, carol.id).await.expect("overview").expect("participants get an overview");
    assert_eq!(overview.conversation.kind, ConversationKind::Room, "three participants make a room");
    assert_eq!(overview.conversation.context.as_ref(), Some(&job), "the room carries its context");
    let members = sorted(store.member_ids(group).await.expect("member_ids"));
    assert_eq!(members, sorted([alice.id, bob.id, carol.id]), "every participant is a member of the room");
    assert_eq!(membership(store, group, &bob).await.map(|m| m.role), Some(Role::Owner), "the creator owns the room");
    assert_eq!(membership(store, group, &alice).await.map(|m| m.role), Some(Role::Member), "others are members");
    let again = by_context(store, &job, &[carol.id, alice.id], bob.id).await;
    assert_eq!(again, (group, false), "the room is found again by its participants");

    let pair = DirectPair::new(alice.id, bob.id).expect("distinct users");
    let (plain, created) = store.get_or_create_direct(pair).await.expect("get_or_create_direct");
    assert!(created && plain != id, "a context conversation is not the pair's plain direct conversation");
    let plain_overview = store.overview(plain, alice.id).await.expect("overview").expect("member overview");
    assert_eq!(plain_overview.conversation.context, None, "the plain direct conversation has no context");
    assert_eq!(by_context(store, &job, &[alice.id, bob.id], alice.id).await, (id, false), "and does not replace it");

    let filter = |kind: &str, external_id: Option<&str>| ConversationFilter {
        context_type: Some(kind.to_owned()),
        context_id: external_id.map(str::to_owned),
        after: None,
        limit: 50,
    };
    let listed = listed_for(store, alice.id, &filter("job", Some("42"))).await;
    assert_eq!(listed, sorted_ids([id, with_carol, group]), "the filter lists only that context's conversations");
    let listed = listed_for(store, bob.id, &filter("job", Some("42"))).await;
    assert_eq!(listed, sorted_ids([id, group]), "the filter lists only the user's own conversations");
    let listed = listed_for(store, alice.id, &filter("job", None)).await;
    assert_eq!(listed, sorted_ids([id, with_carol, other_job, group]), "a type alone lists every context of it");
    let everything = ConversationFilter { limit: 50, ..Default::default() };
    let all = listed_for(store, alice.id, &everything).await;
    assert_eq!(all, sorted_ids([id, with_carol, other_job, order, group, plain]), "no filter lists everything");
}

fn context(kind: &str, external_id: &str, title: Option<&str>) -> Context {
    Context::parse(kind, external_id, title).expect("valid context")
}

async fn by_context(
    store: &dyn Store,
    context: &Context,
    participants: &[UserId],
    creator: UserId,
) -> (ConversationId, bool) {
    store.get_or_create_by_context(context, participants, creator).await.expect("get_or_create_by_context")
}

async fn listed_for(store: &dyn Store, user: UserId, filter: &ConversationFilter) -> Vec<ConversationId> {
    let overviews = store.list_overviews(user, filter).await.expect("list_overviews");
    sorted_ids(overviews.iter().map(|o| o.conversation.id))
}

fn sorted_ids(ids: impl IntoIterator<Item = ConversationId>) -> Vec<ConversationId> {
    let mut ids: Vec<ConversationId> = ids.into_iter().collect();
    ids.sort();
    ids
}
