//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ws2sim::scenario::{self, Scenario};

/// Every shipped scenario, sorted by path.
pub fn shipped() -> Vec<(String, Scenario)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&path)
                .display()
                .to_string();
            let scenario = scenario::load_file(&path)
                .unwrap_or_else(|error| panic!("{name} does not load: {error}"));
            (name, scenario)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path);
        }
    }
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An error report as one line (the report wraps a long message, at a space or after
/// a hyphen, so a wrapped path's length does not change the words tests look for).
pub fn one_line(bytes: &[u8]) -> String {
    text(bytes)
        .replace("-\n  \u{2502} ", "-")
        .replace("\n  \u{2502} ", " ")
}

/// Runs the `ws2sim` binary in the crate's root, without colour.
pub fn ws2sim(args: &[&str]) -> std::process::Output {
    ws2sim_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs the `ws2sim` binary in `dir`, without colour (arguments need not be UTF-8).
pub fn ws2sim_in(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// Runs the `ws2sim` binary in the crate's root with `input` on its standard input; a
/// command that refuses early may not read it all (a broken pipe is its answer).
pub fn ws2sim_fed(args: &[&str], input: &[u8]) -> std::process::Output {
    fed(args, input).0
}

/// [`ws2sim_fed`] for a command that must read the whole input: a failed write panics.
pub fn ws2sim_fed_whole(args: &[&str], input: &[u8]) -> std::process::Output {
    let (out, written) = fed(args, input);
    written.expect("the whole input written");
    out
}

/// The run and how writing its input went; the input is written from another thread,
/// so that a child writing its output first cannot stall the write.
fn fed(args: &[&str], input: &[u8]) -> (std::process::Output, std::io::Result<()>) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("ends");
    (out, writer.join().expect("the writer ends"))
}

/// A fresh directory under the system's temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh folder: its own for each call, as tests of one binary run side by side
    /// and two may pick one name.
    pub fn new(name: &str) -> Scratch {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ws2sim-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path.display().to_string()
    }

    /// The own-provider-model lesson and its model file, copied here side by side:
    /// (the scenario's path, the model file's path, the model file's text).
    pub fn own_model_lesson(&self) -> (String, String, String) {
        let lesson = "scenarios/teach/own-provider-model.ron";
        let own = std::fs::read_to_string(lesson).expect("lesson");
        let scenario = self.file(
            "s.ron",
            own.replace("../../models/acme-tcp.ron", "acme.ron"),
        );
        let model = std::fs::read_to_string("models/acme-tcp.ron").expect("model");
        let model_path = self.file("acme.ron", &model);
        (scenario, model_path, model)
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("readable")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The violations' messages of `run`, in order.
pub fn messages(run: &ws2sim::Ran) -> Vec<String> {
    let verdict = run.verdict();
    verdict
        .violations
        .iter()
        .map(|v| v.message.clone())
        .collect()
}
