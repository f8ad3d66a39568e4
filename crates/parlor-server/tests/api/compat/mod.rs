//! The seeds' own clients against parlor (docs/compat.md): each test replays one seed's client
//! flow as the seed documents it, authenticated the way that app does (a DRF `Token`, the
//! Django session cookie), which parlor asks of a platform the test runs
//! (`auth.introspection_url`).

mod introspection;
mod platform;
mod seed000;
mod seed002;
mod seed003;
mod seed004;
