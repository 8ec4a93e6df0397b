//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/*`) through the checks the
//! libFuzzer targets run (`fuzz/src`, included here), on stable Rust and deterministically:
//! the seeds and every input a fuzzer found interesting, bugs found included, stay tested in
//! CI without cargo-fuzz. `fuzz/replay.sh` runs this test.

#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOCATOR: fuzz::alloc::Counting = fuzz::alloc::Counting;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// Runs `target`'s check on every file of its corpus, in name order; fails naming each input
/// that failed.
fn replay(target: &str) {
    let (_, check) = fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let folder = corpus_root().join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{target} has no corpus");
    let mut failed = Vec::new();
    for file in &files {
        let data = fs::read(file).unwrap();
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target} failed on {failed:#?}");
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let mut folders: Vec<String> = fs::read_dir(corpus_root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut targets: Vec<String> = fuzz::TARGETS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    targets.sort();
    assert_eq!(folders, targets);
}

#[test]
fn the_allocator_counts_this_thread() {
    let (_, peak) = fuzz::alloc::measure(|| vec![0u8; 1 << 20]);
    assert!(peak.is_some_and(|peak| peak >= 1 << 20), "{peak:?}");
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*
    };
}

replay_tests!(
    http_request,
    http_chunked,
    http_response,
    websocket_frames,
    websocket_deflate,
    websocket_extensions,
    multipart,
    urlencoded,
    cookie,
    signed_value,
    host,
    routing,
    urljoin,
    template_path,
    static_path,
    xsrf_token,
    escape,
);
