//! House rules checked on every `cargo test`: each Rust file opens with a `//!` comment saying
//! what it owns, stays a readable size, and production code has no `unwrap()`/`expect()` outside
//! tests (clippy enforces that too; this catches `#[allow]`s that silence it), and outbound HTTP
//! clients are built only by the outbound-address guard.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace_files() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&crates, &mut files);
    assert!(files.len() > 20, "tidy found too few files under {}", crates.display());
    files
}

#[test]
fn every_rust_file_opens_with_a_module_doc_comment() {
    let missing: Vec<_> = workspace_files()
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().starts_with("//!"))
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` comment: {missing:#?}");
}

#[test]
fn files_stay_a_readable_size() {
    let too_long: Vec<_> = workspace_files()
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap_or_default().lines().count() > 600)
        .collect();
    assert!(too_long.is_empty(), "files over 600 lines; split them by concern: {too_long:#?}");
}

#[test]
fn production_code_does_not_silence_the_unwrap_lints() {
    let offenders: Vec<_> = workspace_files()
        .into_iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "src"))
        .filter(|f| !f.ends_with("conformance.rs"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("allow(clippy::unwrap_used") || text.contains("allow(clippy::expect_used")
        })
        .collect();
    assert!(offenders.is_empty(), "production files allowing unwrap/expect: {offenders:#?}");
}

/// Requests to URLs someone else chose go through the outbound-address guard (`src/outbound/`),
/// which refuses internal addresses; a client built elsewhere would skip it. The admin CLI calls
/// the operator's own server, so it may build its own.
#[test]
fn outbound_http_clients_are_built_only_by_the_guard() {
    let allowed = [Path::new("src/outbound"), Path::new("src/admin/client.rs")];
    let offenders: Vec<_> = workspace_files()
        .into_iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "src"))
        .filter(|f| !allowed.iter().any(|a| f.to_string_lossy().contains(&*a.to_string_lossy())))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("http_client::Client") || text.contains("http_client::ClientBuilder")
        })
        .collect();
    assert!(offenders.is_empty(), "HTTP clients built outside src/outbound/ (use outbound::Outbound): {offenders:#?}");
}
