//! Transport providers written in Rust through `ws2sim::Transport`: the trait's
//! defaults give the built-in conforming model's traces byte for byte, and mutants
//! written through the handle give their built-in twins' traces, so each is caught
//! exactly as its twin is.

#[path = "../common/mod.rs"]
mod common;

mod namespace;
mod start_ups;

use ws2sim::scenario::ProviderKind;
use ws2sim::spi::DllReason;
use ws2sim::spi::SessionArg;
use ws2sim::spi::conforming::{self, Globals};
use ws2sim::wsa::*;
use ws2sim::{Error, Model, Namespace, Reply, Sim, Spi, Transport};

const SEEDS: [u64; 3] = [0, 1, 7];

/// Every routine left to the trait's defaults.
struct Plain;
impl Transport for Plain {}

/// `racy_refcount`: no lock, and a yield between reading the count and writing it.
struct Racy;
impl Transport for Racy {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        if spi.network_down() {
            return Reply::fail(WSASYSNOTREADY);
        }
        if let Err(error) = spi.start_lower().await {
            return Reply::fail(error);
        }
        let before = spi.with(|g: &mut Globals| g.refcount);
        spi.yield_now().await;
        if before == 0
            && let Err(reply) = conforming::initialise(spi).await
        {
            return reply;
        }
        spi.with(|g: &mut Globals| g.refcount = before + 1);
        Reply::ok().counted(before, before + 1, false)
    }

    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            return Reply::fail(WSANOTINITIALISED);
        }
        spi.yield_now().await;
        spi.with(|g: &mut Globals| g.refcount = before - 1);
        if before == 1 {
            conforming::final_cleanup(spi).await;
        }
        conforming::cleaned_up(spi, before, before - 1)
    }
}

/// `cleanup_on_first_call` and `san_cleanup_on_first_call`.
struct CleansUpEveryTime;
impl Transport for CleansUpEveryTime {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| std::mem::take(&mut g.refcount));
        if before > 0 {
            conforming::final_cleanup(spi).await;
        }
        spi.unlock();
        match before {
            0 => Reply::fail(WSANOTINITIALISED),
            _ => conforming::cleaned_up(spi, before, 0),
        }
    }
}

/// `san_returns_einval`: WSAEINVAL for a clean-up with no start-up behind it.
struct Einval;
impl Transport for Einval {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let started = spi.with(|g: &mut Globals| g.refcount > 0);
        if !started {
            spi.lock().await;
            spi.unlock();
            return Reply::fail(WSAEINVAL);
        }
        conforming::cleanup(spi).await
    }
}

/// What one of the final clean-up mutants below does differently.
#[derive(Clone, Copy, PartialEq)]
enum Slip {
    LeaveSocketsOpen,
    DropLingeringData,
    ReturnBeforeWorkerExits,
    CompleteBeforeFree,
    CompleteTwice,
}

/// A final clean-up with one slip; WSPStartup and the counting stay conforming.
struct FinalCleanup(Slip);
impl Transport for FinalCleanup {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            spi.unlock();
            return Reply::fail(WSANOTINITIALISED);
        }
        spi.with(|g: &mut Globals| g.refcount = before - 1);
        if before == 1 {
            self.final_cleanup(spi).await;
        }
        spi.unlock();
        conforming::cleaned_up(spi, before, before - 1)
    }
}

impl FinalCleanup {
    async fn final_cleanup(&self, spi: &Spi<'_>) {
        spi.begin_final_cleanup();
        spi.yield_now().await;
        if spi.is_san() {
            loop {
                let pending = spi.pending();
                if pending.is_empty() {
                    break;
                }
                for operation in pending {
                    let free = || operation.memory.map(|held| spi.release(held));
                    if self.0 != Slip::CompleteBeforeFree {
                        free();
                    }
                    spi.upcall_complete(operation.op, WSA_OPERATION_ABORTED)
                        .await;
                    if self.0 == Slip::CompleteTwice {
                        spi.upcall_complete(operation.op, WSA_OPERATION_ABORTED)
                            .await;
                    }
                    if self.0 == Slip::CompleteBeforeFree {
                        free();
                    }
                }
            }
        }
        conforming::abort_pending(spi);
        if spi.clean_up_switch().await {
            conforming::abort_pending(spi);
        }
        if self.0 != Slip::LeaveSocketsOpen {
            for socket in spi.open_sockets() {
                spi.reset(socket);
            }
        }
        if self.0 == Slip::DropLingeringData {
            for socket in spi.closed_sockets() {
                spi.discard(socket);
            }
        }
        spi.stop_worker(self.0 != Slip::ReturnBeforeWorkerExits)
            .await;
        spi.clean_lower().await;
        conforming::free(spi);
    }
}

/// `defers_free_to_threadpool`: DllMain(DLL_PROCESS_DETACH) queues work that lives in
/// the DLL.
struct DefersFree;
impl Transport for DefersFree {
    async fn dll_main(&self, spi: &Spi<'_>, reason: DllReason) {
        if reason == (DllReason::ProcessDetach { terminating: false }) {
            spi.defer_to_thread_pool("thread-pool callback (deferred free)");
        }
    }
}

/// The text trace of `file` with every provider of `kinds` given `model`, with the
/// model's name written `shown`; `None` when the run is refused (a built-in namespace
/// model with knobs of the version the scenario's provider does not serve).
fn trace(
    file: &str,
    kinds: &[ProviderKind],
    model: &Model,
    seed: u64,
    shown: &str,
) -> Option<String> {
    let mut sim = Sim::from_file(file).expect("a shipped scenario loads");
    let providers: Vec<String> = sim
        .scenario()
        .providers
        .iter()
        .filter(|p| kinds.contains(&p.kind))
        .map(|p| p.name.clone())
        .collect();
    for provider in providers {
        sim = sim.provider(&provider, model.clone());
    }
    let run = match sim.seed(seed).run() {
        Ok(run) => run,
        Err(ws2sim::Error::Options(ws2sim::run::OptionError::KnobVersion { .. })) => return None,
        Err(error) => panic!("the run is made: {error}"),
    };
    let text = match model {
        Model::Code { name, .. } => run.trace().replace(name.as_str(), shown),
        _ => run.trace(),
    };
    // The header says a built-in mutant is one and what it breaks; code has no such
    // label, and the header is naming, not behaviour.
    let lines = text.lines().filter(|line| !line.starts_with("provider "));
    Some(lines.collect::<Vec<_>>().join("\n"))
}

/// Whether `file` has a provider of one of `kinds`.
fn has_kind(file: &str, kinds: &[ProviderKind]) -> bool {
    let sim = Sim::from_file(file).expect("a shipped scenario loads");
    sim.scenario()
        .providers
        .iter()
        .any(|p| kinds.contains(&p.kind))
}

/// A shipped file's path, wherever the tests run from.
fn shipped_path(relative: &str) -> String {
    format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn shipped_files() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let files = common::shipped().into_iter().map(|(name, _)| name);
    files.map(|name| format!("{root}/{name}")).collect()
}

/// A trace with the reason a fault never fired left out: ws2sim knows when a built-in
/// model's routine allocates nothing, and cannot know it of code written in Rust.
fn without_unfired_reasons(trace: String) -> String {
    let lines = trace
        .lines()
        .map(|line| match line.split_once(" never fired") {
            Some((fault, _)) if line.starts_with("note: fault") => format!("{fault} never fired"),
            _ => line.to_string(),
        });
    lines.collect::<Vec<_>>().join("\n")
}

/// `trace` with each token's stamp set to 0: a model written in Rust runs on
/// conforming knobs, so its tokens carry another stamp than its built-in twin's even
/// where every decision is the same.
fn without_stamps(trace: String) -> String {
    let lines = trace
        .lines()
        .map(|line| match line.split_once("--schedule ") {
            Some((before, after)) => {
                let (token, rest) = after.split_once(' ').unwrap_or((after, ""));
                let (schedule, _) = sim::Schedule::from_token(token).expect("a token");
                format!("{before}--schedule {} {rest}", schedule.to_token(0))
            }
            None => line.to_string(),
        });
    lines.collect::<Vec<_>>().join("\n")
}

/// `code` and the built-in model `twin` give the same bytes on every shipped scenario
/// with a provider of `kinds`, for each seed (but the reason a fault never fired, and
/// the stamp of a token); returns how many runs were compared.
fn same_as(twin: &str, kinds: &[ProviderKind], code: Model) -> usize {
    let mut compared = 0;
    for file in shipped_files() {
        if !has_kind(&file, kinds) {
            continue;
        }
        for seed in SEEDS {
            let Some(built_in) = trace(&file, kinds, &Model::named(twin), seed, twin) else {
                continue;
            };
            let built_in = without_stamps(without_unfired_reasons(built_in));
            let written = trace(&file, kinds, &code, seed, twin).expect("code is never refused");
            let written = without_stamps(without_unfired_reasons(written));
            if built_in != written {
                let (line, (a, b)) = built_in
                    .lines()
                    .zip(written.lines())
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .unwrap_or((0, ("(a shorter trace)", "")));
                panic!("{file} seed {seed}: line {line} differs:\n built-in {a}\n in Rust  {b}");
            }
            compared += 1;
        }
    }
    compared
}

/// The name of each mutant written in Rust below (one run has one).
const IN_RUST: &str = "twin_written_in_rust";

const TRANSPORT: &[ProviderKind] = &[ProviderKind::Transport];
const SAN: &[ProviderKind] = &[ProviderKind::San];

#[test]
fn the_defaults_are_the_conforming_model_byte_for_byte() {
    let code = Model::code("conforming_in_rust", Plain);
    let both = &[ProviderKind::Transport, ProviderKind::San];
    assert!(same_as("conforming", both, code) >= 60);
}

/// A built-in mutant's name, the kinds it is given to, and its twin written in Rust.
fn twin(
    name: &'static str,
    kinds: &'static [ProviderKind],
    code: impl Transport,
) -> (&'static str, &'static [ProviderKind], Model) {
    (name, kinds, Model::code(IN_RUST, code))
}

#[test]
fn mutants_written_in_rust_match_their_built_in_twins() {
    use Slip::*;
    let slip = FinalCleanup;
    let twins = [
        twin("racy_refcount", TRANSPORT, Racy),
        twin("cleanup_on_first_call", TRANSPORT, CleansUpEveryTime),
        twin("san_cleanup_on_first_call", SAN, CleansUpEveryTime),
        twin("san_returns_einval", SAN, Einval),
        twin("leaks_open_sockets", TRANSPORT, slip(LeaveSocketsOpen)),
        twin("drops_lingering_data", TRANSPORT, slip(DropLingeringData)),
        twin(
            "returns_before_worker_exits",
            TRANSPORT,
            slip(ReturnBeforeWorkerExits),
        ),
        twin("san_completes_before_free", SAN, slip(CompleteBeforeFree)),
        twin("defers_free_to_threadpool", TRANSPORT, DefersFree),
    ];
    for (twin, kinds, code) in twins {
        assert!(same_as(twin, kinds, code) > 0, "{twin}: nothing compared");
    }
}

#[test]
fn a_rust_model_is_caught_through_the_library() {
    let file = format!(
        "{}/scenarios/contracts/lingering-data.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let drops = Model::code("acme", FinalCleanup(Slip::DropLingeringData));
    let run = Sim::from_file(&file)
        .unwrap()
        .provider("msafd", drops)
        .run()
        .unwrap();
    assert_eq!(run.violated(), ["wsp.cleanup.lingering_data_sent"]);
    assert!(
        run.trace()
            .contains("provider msafd · Transport · model acme")
    );
}

#[test]
fn a_rust_model_needs_a_transport_provider_and_a_name_of_its_own() {
    let file = format!(
        "{}/scenarios/teach/dns-lookup-lazy-start.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let sim = Sim::from_file(&file).unwrap();
    let namespace = sim
        .scenario()
        .providers
        .iter()
        .find(|p| p.kind == ProviderKind::Namespace);
    let namespace = namespace
        .expect("the lesson has a namespace provider")
        .name
        .clone();
    let error = sim
        .clone()
        .provider(&namespace, Model::code("mine", Plain))
        .run();
    assert!(
        matches!(error, Err(Error::CodeKind { .. })),
        "{:?}",
        error.err()
    );
    let transport = sim
        .scenario()
        .providers
        .iter()
        .find(|p| p.kind == ProviderKind::Transport);
    let transport = transport.expect("and a transport provider").name.clone();
    let long = "x".repeat(65);
    for name in [
        "conforming",
        "racy_refcount",
        "",
        "two\nlines",
        "\u{1b}[31mred",
        &long,
        // As a model file's name: a plain ASCII word, no `.ron` (it would read as a
        // path in the replay command), and no built-in model's name in any case.
        "a\u{202e}b",
        "two  spaces",
        "mine.ron",
        "Conforming",
        "ws2_32",
        "skips_nspv2_cleanup",
    ] {
        let error = sim
            .clone()
            .provider(&transport, Model::code(name, Plain))
            .run();
        assert!(
            matches!(error, Err(Error::CodeName(_))),
            "{name}: {:?}",
            error.err()
        );
    }
    let error = sim
        .clone()
        .provider("nobody", Model::code("mine", Plain))
        .run();
    assert!(error.is_err());
}

#[test]
fn exploring_a_rust_model_finds_its_race_and_the_shrunk_schedule_replays() {
    let file = format!(
        "{}/scenarios/teach/racy-refcount.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let sim = Sim::from_file(&file).unwrap();
    let fixed = sim.clone().provider("msafd", Model::code("acme", Plain));
    let explored = fixed.explore(ws2sim::Strategy::Random, 500, 2).unwrap();
    assert!(explored.violated().is_empty(), "{}", explored.text());
    let racy = sim.provider("msafd", Model::code("acme", Racy));
    let explored = racy.explore(ws2sim::Strategy::Random, 500, 2).unwrap();
    assert!(explored.violated().contains(&"wsp.cleanup.refcount"));
    assert_eq!(
        explored.text(),
        racy.explore(ws2sim::Strategy::Random, 500, 1)
            .unwrap()
            .text(),
        "jobs do not change the report"
    );
    let token = explored.failure().expect("a failing schedule");
    let replayed = racy.clone().replay(token).unwrap().run().unwrap();
    assert!(replayed.violated().contains(&"wsp.cleanup.refcount"));
}

/// A provider whose final clean-up panics.
struct Panics;
impl Transport for Panics {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let left = spi.with(|g: &mut Globals| g.refcount);
        if left == 1 {
            panic!("acme: the last clean-up found {left} start-up");
        }
        conforming::cleanup(spi).await
    }
}

#[test]
fn a_panic_in_a_rust_model_ends_its_run_and_fails_the_sweep_without_ending_it() {
    let root = env!("CARGO_MANIFEST_DIR");
    let lingering = format!("{root}/scenarios/contracts/lingering-data.ron");
    let sim = Sim::from_file(&lingering).unwrap();
    let run = sim
        .provider("msafd", Model::code("acme", Panics))
        .run()
        .unwrap();
    let panic = run.panic().expect("the run says it panicked");
    assert!(
        panic.starts_with("msafd!WSPCleanup: acme: the last clean-up found 1 start-up (at tests"),
        "{panic}"
    );
    assert!(
        run.trace()
            .contains("run: panicked: msafd's WSPCleanup (written in Rust)")
    );
    assert!(run.json().contains("\"Panicked\""));

    let lesson = format!("{root}/scenarios/teach/racy-refcount.ron");
    let sim = Sim::from_file(&lesson).unwrap();
    let sim = sim.provider("msafd", Model::code("acme", Panics));
    let explored = sim.explore(ws2sim::Strategy::Random, 300, 2).unwrap();
    assert!(!explored.passed());
    assert_eq!(explored.schedules(), 300, "every schedule ran");
    assert!(explored.text().contains("panicked (first: schedule #"));
    assert!(explored.text().contains("first panicked: ws2sim replay"));
    let one_job = sim.explore(ws2sim::Strategy::Random, 300, 1).unwrap();
    assert_eq!(explored.text(), one_job.text());
    let token = explored
        .panicked()
        .expect("the first schedule that panicked");
    let replayed = sim.clone().replay(&token).unwrap().run().unwrap();
    assert!(
        replayed
            .panic()
            .is_some_and(|p| p.starts_with("msafd!WSPCleanup: acme:"))
    );
}

/// Counts every final clean-up in a static, which outlives the run (unlike the DLL's
/// globals): every other run, it frees its memory before its machine-wide state.
struct CarriesState;
static FINAL_CLEANUPS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
impl Transport for CarriesState {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before != 1 {
            return conforming::cleanup(spi).await;
        }
        spi.with(|g: &mut Globals| g.refcount = 0);
        let odd = FINAL_CLEANUPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2 == 1;
        if odd {
            let memory = spi.with(|g: &mut Globals| g.memory.take());
            memory.map(|held| spi.release(held));
        }
        conforming::final_cleanup(spi).await;
        conforming::cleaned_up(spi, 1, 0)
    }
}

#[test]
fn code_that_is_not_deterministic_is_caught_unless_the_check_is_off() {
    let root = env!("CARGO_MANIFEST_DIR");
    let file = format!("{root}/scenarios/contracts/lingering-data.ron");
    let sim = Sim::from_file(&file).unwrap();
    let sim = sim.provider("msafd", Model::code("acme", CarriesState));
    let error = sim
        .run()
        .err()
        .expect("the second run parts from the first");
    let Error::Nondeterministic { first, second, .. } = &error else {
        panic!("{error}");
    };
    assert_ne!(first, second);
    assert!(error.to_string().contains("not deterministic"), "{error}");
    assert!(sim.clone().check_determinism(false).run().is_ok());

    let explored = sim.explore(ws2sim::Strategy::Random, 20, 1).unwrap();
    assert!(explored.text().contains("determinism: NOT deterministic"));
    assert!(!explored.passed());
    let plain = Sim::from_file(&file)
        .unwrap()
        .provider("msafd", Model::code("acme", Plain));
    let explored = plain.explore(ws2sim::Strategy::Random, 20, 1).unwrap();
    assert!(
        explored
            .text()
            .contains("determinism: every schedule ran twice")
    );
    assert!(plain.run().is_ok());
}

#[test]
fn a_san_provider_that_completes_an_operation_twice_is_caught() {
    let file = format!(
        "{}/scenarios/contracts/san-cleanup.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let twice = Model::code("acme_san", FinalCleanup(Slip::CompleteTwice));
    let run = Sim::from_file(&file)
        .unwrap()
        .provider("sandrv", twice)
        .run()
        .unwrap();
    assert_eq!(run.violated(), ["san.cleanup.complete_via_upcall"]);
    assert!(
        run.trace()
            .contains("after it had already completed: an operation is completed once")
    );
    let run = Sim::from_file(&file)
        .unwrap()
        .provider("sandrv", Model::code("acme_san", Plain));
    assert!(run.run().unwrap().violated().is_empty());
}
