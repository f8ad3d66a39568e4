//! Checks for what the operator's tools need: reading a whole conversation in order without a
//! viewer (exports), online backups and vacuuming.

use parlor_core::{ConversationId, Seq};

use super::UNKNOWN;
use super::support::*;
use crate::{Store, StoreError};

pub async fn check_export_reads(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let id = direct(store, &alice, &bob).await;
    for n in 1..=5 {
        send(store, id, if n % 2 == 0 { &bob } else { &alice }, &format!("message {n}")).await;
    }

    let first = store.messages_after(id, Seq(0), 2).await.expect("messages_after");
    assert_eq!(message_seqs(&first), [1, 2], "messages_after pages oldest first, at most `limit`");
    let rest = store.messages_after(id, Seq(2), 10).await.expect("messages_after");
    assert_eq!(message_seqs(&rest), [3, 4, 5], "messages_after starts strictly after its cursor");
    assert_eq!(rest[2].content, "message 5", "messages_after returns the messages themselves");
    assert!(store.messages_after(id, Seq(5), 10).await.expect("messages_after").is_empty(), "nothing after the end");

    let (conversation, members) =
        store.conversation_with_members(id).await.expect("conversation_with_members").expect("it exists");
    assert_eq!(conversation.id, id, "conversation_with_members returns the conversation");
    assert_eq!(conversation.last_message_seq, Seq(5), "with its counters");
    assert_eq!(sorted(member_ids(&members)), sorted([alice.id, bob.id]), "and its current members, no one else");
    assert!(!member_ids(&members).contains(&carol.id));
    let missing = store.conversation_with_members(ConversationId(UNKNOWN)).await.expect("conversation_with_members");
    assert!(missing.is_none(), "an unknown conversation is None");
}

/// Backends may not support maintenance at all; those that do must keep serving around it.
pub async fn check_backup_and_vacuum(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let id = direct(store, &alice, &bob).await;
    send(store, id, &alice, "before the backup").await;

    // Unique per run, so suites running side by side never share a backup path.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("parlor-backup-check-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir for the backup");
    let to = dir.join("backup.db");
    match store.backup(&to).await {
        Err(StoreError::Unsupported(what)) => assert_eq!(what, "backup", "Unsupported names what"),
        Ok(size) => {
            let on_disk = std::fs::metadata(&to).expect("backup wrote its file").len();
            assert!(size > 0 && size == on_disk, "backup returns the size of the file it wrote ({size} vs {on_disk})");
            let again = store.backup(&to).await;
            assert!(
                matches!(again, Err(StoreError::Conflict("backup file"))),
                "backup never overwrites a file, got {again:?}"
            );
            assert_eq!(std::fs::metadata(&to).expect("still there").len(), on_disk, "the old backup is untouched");
        }
        Err(other) => panic!("backup failed: {other:?}"),
    }
    std::fs::remove_dir_all(&dir).ok();

    match store.vacuum().await {
        Ok(()) | Err(StoreError::Unsupported("vacuum")) => {}
        Err(other) => panic!("vacuum failed: {other:?}"),
    }
    send(store, id, &bob, "after the vacuum").await;
    assert_eq!(stored_count(store, id).await, 2, "the store keeps every message and serves after maintenance");
}
