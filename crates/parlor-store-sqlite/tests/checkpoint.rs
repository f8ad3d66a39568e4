//! The WAL reaches the database file while the store runs, though the writer never checkpoints
//! in a commit (`checkpoint.rs`): a few hundred kilobytes of messages, far below the 1,000 pages
//! after which SQLite's own commit-time checkpoint would copy them, are in the file within a
//! few of the checkpointer's intervals.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::time::{Duration, Instant};

use parlor_core::{DirectPair, DisplayName, MessageBody, NewMessage, NewUser, Username};
use parlor_store::Store;

#[tokio::test]
async fn written_messages_reach_the_database_file_without_a_commit_checkpointing() {
    let dir = tempfile::tempdir().expect("temp dir for the test database");
    let path = dir.path().join("store.db");
    let store = parlor_store_sqlite::open(&path).await.expect("open test database");
    let mut users = Vec::new();
    for name in ["ada", "bob"] {
        let new = NewUser {
            username: Username::parse(name).expect("username"),
            name: DisplayName::parse(name).expect("display name"),
            password_hash: String::new(),
        };
        users.push(store.create_user(new).await.expect("create user").id);
    }
    let pair = DirectPair::new(users[0], users[1]).expect("two users");
    let (id, _) = store.get_or_create_direct(pair).await.expect("direct conversation");
    let before = std::fs::metadata(&path).expect("database file").len();

    // 200 messages of 2,000 characters: ~400 KB of text, a fraction of 1,000 pages of 4 KiB.
    for n in 0..200 {
        let text = format!("{n:04} ") + &"lorem ipsum dolor sit amet ".repeat(74);
        let new = NewMessage {
            conversation_id: id,
            sender_id: users[n % 2],
            body: MessageBody::parse(text, 4000).expect("body"),
            reply_to: None,
            client_id: None,
            forwarded: false,
            attachment: None,
        };
        store.append_message(new).await.expect("append");
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let size = std::fs::metadata(&path).expect("database file").len();
        if size >= before + 400_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the database file is {size} bytes ({before} before the writes): the WAL was never checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
