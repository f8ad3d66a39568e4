//! House rules checked on every `cargo test`: each Rust file opens with a `//!` comment saying
//! what it owns, stays a readable size, and production code has no `unwrap()`/`expect()` outside
//! tests (clippy enforces that too; this catches `#[allow]`s that silence it).

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
