//! The imports follow the layers ARCHITECTURE.md draws: every `crate::` path in a
//! module's code (comments left out) names a module of a lower layer, or the module
//! itself. So the import graph has no ring, the world runs no provider code, and the
//! oracle reads a trace, not the world that made it. Unit tests keep to the same layers;
//! the one module they may reach above them is `shipped`, the unit tests' support (it
//! drives whole runs for the layers below `run`).

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of `src/` and its layer; a module imports only from lower ones.
/// `switch` lives inside the base TCP provider, so it shares the providers' layer and
/// the two call each other.
const LAYERS: &[(&str, u32)] = &[
    ("wsa", 0),
    ("small", 0),
    ("contract", 0),
    ("choices", 0),
    ("escape", 0),
    ("output", 1),
    ("models", 1),
    ("scenario", 2),
    ("event", 3),
    ("words", 4),
    ("trace", 4),
    ("catalog", 4),
    ("world", 5),
    ("oracle", 5),
    ("providers", 6),
    ("switch", 6),
    ("nshost", 7),
    ("ws2", 8),
    ("steps", 9),
    ("run", 10),
    ("render", 11),
    ("explore", 12),
    ("api", 13),
    ("cli", 13),
    ("lib", 14),
    ("main", 14),
    ("shipped", 14),
];

/// Modules of one layer that may import each other.
const PARTNERS: &[(&str, &str)] = &[("providers", "switch"), ("switch", "providers")];

fn layer(module: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module `{module}` has no layer in LAYERS"))
}

/// The modules `code` names through `crate::`, outside comments, each with whether it
/// is named in test code (from the first `#[cfg(test)]` on).
fn imports(code: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut in_test = false;
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("#[cfg(test)]") {
            in_test = true;
        }
        if line.starts_with("//") {
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((name, in_test));
            }
            rest = after;
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_import_goes_to_a_lower_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    let mut edges: BTreeMap<(String, String), String> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src/");
        let first = relative.components().next().expect("a path");
        let module = Path::new(first.as_os_str())
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 name")
            .to_string();
        let code = std::fs::read_to_string(file).expect("readable");
        // A module's unit tests may sit in a `tests.rs` beside it, all of it test code.
        let tests_file = file.file_name().is_some_and(|name| name == "tests.rs");
        for (target, in_test) in imports(&code) {
            let in_test = in_test || tests_file;
            // The unit tests' support sits above everything; only test code reaches it.
            if in_test && target == "shipped" {
                continue;
            }
            if target != module {
                edges
                    .entry((module.clone(), target))
                    .or_insert_with(|| relative.display().to_string());
            }
        }
    }
    let wrong: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| {
            layer(to) >= layer(from) && !PARTNERS.contains(&(from.as_str(), to.as_str()))
        })
        .map(|((from, to), file)| {
            format!(
                "{from} (layer {}) imports {to} (layer {}) in {file}",
                layer(from),
                layer(to)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
    assert!(edges.len() > 40, "the scan found {} imports", edges.len());
}

#[test]
fn the_scan_sees_imports_and_tells_test_code() {
    let code = "use crate::world::Cx;\n// crate::run in a comment\nlet x = crate::oracle::check(); // crate::cli\n#[cfg(test)]\nuse crate::render;\n";
    let imported = imports(code);
    let found: Vec<(&str, bool)> = imported.iter().map(|(m, t)| (m.as_str(), *t)).collect();
    assert_eq!(
        found,
        [("world", false), ("oracle", false), ("render", true)]
    );
}
