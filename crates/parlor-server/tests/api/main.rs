//! parlor's integration tests: one binary, each test against a real server on a random port with
//! its own data directory, driven over HTTP and WebSocket as a client would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod helpers;

mod admin_cli;
mod attachments;
mod audit;
mod auth;
mod bad_input;
mod calls;
mod calls_browser;
mod chat_live;
mod cli;
mod cluster;
mod compat;
mod connections;
mod conversations;
mod cors;
mod durability;
mod email;
mod faults;
mod former_members;
mod heartbeat;
mod host_jwks;
mod host_tokens;
mod invisible;
mod lifecycle;
mod load_generator;
mod login_timing;
mod memory;
mod migrate;
mod moderation;
mod notification_settings;
mod notifications;
mod object_storage;
mod observability;
mod openapi;
mod permissions;
mod pipelining;
mod presence;
mod privacy;
mod push;
mod rate_limits;
mod reach;
mod resume;
mod rooms;
mod search;
mod server_api;
mod transcripts;
mod users;
mod web_client;
mod webhooks;
mod ws_security;
