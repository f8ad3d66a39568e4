//! Conformance checks for self-service data exports: one in progress per person, a quota per
//! window, runs claimed for a while and taken over when their claim runs out, outcomes,
//! expiry, and erasure taking them along.

use parlor_core::Timestamp;

use super::three_users;
use crate::{ErasureMode, ExportOutcome, ExportQuota, ExportStatus, QueuedUserDeleted, Store, StoreError};

fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(1_761_386_400_000 + secs * 1000)
}

fn any_time() -> ExportQuota {
    ExportQuota { since: Timestamp::from_millis(0), max: 2 }
}

fn ready(key: &str, expires: i64) -> ExportOutcome {
    ExportOutcome::Ready { blob_key: key.into(), size_bytes: 1234, expires_at: at(expires) }
}

pub async fn check_exports(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let first = store.request_export(alice.id, at(0), any_time()).await.expect("request_export");
    assert_eq!((first.status, first.user_id, first.attempts), (ExportStatus::Pending, alice.id, 0));
    let again = store.request_export(alice.id, at(1), any_time()).await;
    assert!(matches!(again, Err(StoreError::Conflict("export"))), "one in progress at a time, got {again:?}");
    assert_eq!(store.export(first.id).await.expect("export"), Some(first.clone()), "reads back as stored");
    assert_eq!(store.export(first.id + 1000).await.expect("export"), None);

    let claimed = store.claim_export(at(2), at(62), 3).await.expect("claim_export").expect("a pending export");
    assert_eq!((claimed.id, claimed.status, claimed.attempts), (first.id, ExportStatus::Running, 1));
    assert_eq!(store.claim_export(at(3), at(63), 3).await.expect("claim_export"), None, "claimed: not again");
    let taken = store.claim_export(at(70), at(130), 3).await.expect("claim_export").expect("its claim ran out");
    assert_eq!((taken.id, taken.attempts), (first.id, 2), "a run whose node stopped is taken over");

    store.finish_export(first.id, at(80), &ready("exports/a.zip", 3600)).await.expect("finish_export");
    let done = store.export(first.id).await.expect("export").expect("still there");
    assert_eq!(
        (done.status, done.blob_key.as_deref(), done.size_bytes, done.finished_at, done.expires_at),
        (ExportStatus::Ready, Some("exports/a.zip"), Some(1234), Some(at(80)), Some(at(3600)))
    );
    let twice = store.finish_export(first.id, at(81), &ready("exports/b.zip", 3600)).await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "only a running export finishes, got {twice:?}");

    let second = store.request_export(alice.id, at(90), any_time()).await.expect("a second one, within the quota");
    store.claim_export(at(91), at(151), 3).await.expect("claim_export").expect("the second");
    let failed = ExportOutcome::Failed { error: "too_large".into() };
    store.finish_export(second.id, at(92), &failed).await.expect("finish_export");
    let third = store.request_export(alice.id, at(93), any_time()).await;
    assert!(matches!(third, Err(StoreError::Rule("export_quota"))), "two per window, got {third:?}");
    let later = ExportQuota { since: at(85), max: 2 };
    store.request_export(alice.id, at(94), later).await.expect("only those since the window's start count");
    let listed: Vec<ExportStatus> =
        store.exports(alice.id, 10).await.expect("exports").iter().map(|j| j.status).collect();
    assert_eq!(listed, [ExportStatus::Pending, ExportStatus::Failed, ExportStatus::Ready], "newest first");
    assert!(store.exports(bob.id, 10).await.expect("exports").is_empty(), "only the user's own");

    // Bob's run stops twice; with two attempts allowed, it is given up on.
    let bobs = store.request_export(bob.id, at(95), any_time()).await.expect("request_export");
    store.claim_export(at(96), at(97), 2).await.expect("claim_export").expect("alice's pending one first");
    let run = store.claim_export(at(96), at(97), 2).await.expect("claim_export").expect("bob's");
    assert_eq!(run.id, bobs.id);
    let retaken = store.claim_export(at(98), at(99), 2).await.expect("claim_export").expect("claims ran out");
    let run = if retaken.id == bobs.id {
        retaken
    } else {
        store.claim_export(at(98), at(99), 2).await.expect("claim_export").expect("bob's, taken over")
    };
    assert_eq!((run.id, run.attempts), (bobs.id, 2));
    store.claim_export(at(200), at(201), 2).await.expect("claim_export");
    let given_up = store.export(bobs.id).await.expect("export").expect("kept");
    assert_eq!((given_up.status, given_up.error.as_deref()), (ExportStatus::Failed, Some("interrupted")));

    let expired = store.expire_exports(at(3000), at(0), 10).await.expect("expire_exports");
    assert!(expired.is_empty(), "nothing expires before its time: {expired:?}");
    let expired = store.expire_exports(at(3601), at(0), 10).await.expect("expire_exports");
    assert_eq!(expired.len(), 1, "the ready one expires: {expired:?}");
    assert_eq!(expired[0].blob_key.as_deref(), Some("exports/a.zip"), "with its archive's key, to delete");
    let gone = store.export(first.id).await.expect("export").expect("kept for a while");
    assert_eq!((gone.status, gone.blob_key), (ExportStatus::Expired, None));
    assert!(store.expire_exports(at(3602), at(0), 10).await.expect("expire_exports").is_empty(), "once");
    store.expire_exports(at(3603), at(100_000), 10).await.expect("expire_exports");
    assert_eq!(store.export(first.id).await.expect("export"), None, "expired ones are forgotten later");
    assert_eq!(store.export(second.id).await.expect("export"), None, "and failed ones");

    let hers = store.request_export(carol.id, at(4000), any_time()).await.expect("request_export");
    while let Some(job) = store.claim_export(at(4001), at(5000), 3).await.expect("claim_export") {
        if job.id == hers.id {
            break;
        }
    }
    store.finish_export(hers.id, at(4002), &ready("exports/c.zip", 9000)).await.expect("finish_export");
    let hook = QueuedUserDeleted { at: at(4003), data: "{}".into() };
    let erasure = store.erase_user(carol.id, ErasureMode::Delete, &hook).await.expect("erase_user");
    assert_eq!(erasure.exports, ["exports/c.zip"], "her archives are named, to delete");
    assert!(store.exports(carol.id, 10).await.expect("exports").is_empty(), "her exports go");
}
