//! The build's identity: a digest of the sources that decide what a run does (this
//! crate's and the kernel's, and the locked versions of every dependency), so that
//! `merge` can tell shard documents written by another build of ws2sim from its own.

use std::path::{Path, PathBuf};

/// The trees and files whose bytes make the digest, relative to this crate.
const SOURCES: &[&str] = &[
    "src",
    "sim/src",
    "sim/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for source in SOURCES {
        println!("cargo::rerun-if-changed={source}");
        collect(&root.join(source), &mut files);
    }
    files.sort();
    let mut digest = Fnv::default();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        // Joined by `/` on every system, so that one tree gives one digest anywhere.
        let parts: Vec<_> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        let bytes = std::fs::read(file).expect("a source file reads");
        digest.feed(parts.join("/").as_bytes());
        digest.feed(&(bytes.len() as u64).to_le_bytes());
        digest.feed(&bytes);
    }
    println!("cargo::rustc-env=WS2SIM_BUILD={:016x}", digest.0);
}

/// `path` itself, or the Rust files under it: an editor's swap file or a stray `.orig`
/// beside them does not make another build.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).expect("a source folder reads");
        for entry in entries {
            let entry = entry.expect("a folder entry reads").path();
            if entry.is_dir() || entry.extension().is_some_and(|e| e == "rs") {
                collect(&entry, files);
            }
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
}

/// FNV-1a, 64 bits: the sources are the project's own, so no adversary picks them.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
