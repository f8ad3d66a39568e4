//! parlor's integration tests: one binary, each test against a real server on a random port with
//! its own data directory, driven over HTTP and WebSocket as a client would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod helpers;

mod attachments;
mod auth;
mod bad_input;
mod chat_live;
mod cli;
mod connections;
mod conversations;
mod durability;
mod faults;
mod lifecycle;
mod moderation;
mod notifications;
mod object_storage;
mod permissions;
mod presence;
mod resume;
mod rooms;
mod search;
mod server_api;
mod users;
mod web_client;
mod webhooks;
