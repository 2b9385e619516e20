//! Transport providers written in Rust through `ws2sim::Transport`: the trait's
//! defaults give the built-in conforming model's traces byte for byte, and mutants
//! written through the handle give their built-in twins' traces, so each is caught
//! exactly as its twin is.

mod common;

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

/// Every namespace routine left to the trait's defaults.
struct PlainNamespace;
impl Namespace for PlainNamespace {}

/// `nsp_cleanup_on_first_call`: every NSPCleanup (and every NSPv2 session end) does the
/// actual clean-up.
struct NspEveryTime;
impl Namespace for NspEveryTime {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        let reply = if !spi.own_provider_id() || before == 0 {
            Reply::fail(WSAEINVAL)
        } else {
            spi.with(|g: &mut Globals| g.refcount = 0);
            spi.yield_now().await;
            spi.stop_worker(true).await;
            conforming::free(spi);
            Reply::ok().counted(before, 0, true)
        };
        spi.unlock();
        reply
    }

    async fn nspv2_cleanup(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        self.end(spi, arg).await
    }

    async fn nspv2_rundown(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        self.end(spi, arg).await
    }
}

impl NspEveryTime {
    async fn end(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        let reply = match spi.session_at(arg).filter(|_| before > 0) {
            None => Reply::fail(WSAEINVAL),
            Some(block) => {
                spi.release(block);
                let state = spi.with(|g: &mut Globals| {
                    g.refcount = 0;
                    g.memory.take()
                });
                state.map(|held| spi.release(held));
                Reply::ok().counted(before, 0, true)
            }
        };
        spi.unlock();
        reply
    }
}

/// `nsp_accepts_any_provider_id`: NSPCleanup ignores the id it is given (the
/// conforming count-down without the check before it).
struct AnyProviderId;
impl Namespace for AnyProviderId {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let reply = conforming::nsp_count_down(spi).await;
        spi.unlock();
        reply
    }
}

/// `conforming_minimal`: the optional NSPv2 routines are stubs (seeds 000, 001).
struct Minimal;
impl Namespace for Minimal {
    async fn nspv2_startup(&self, _: &Spi<'_>) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }

    async fn nspv2_cleanup(&self, _: &Spi<'_>, _: SessionArg) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }

    async fn nspv2_rundown(&self, _: &Spi<'_>, _: SessionArg) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }
}

const NAMESPACE: &[ProviderKind] = &[ProviderKind::Namespace];

#[test]
fn the_namespace_defaults_are_the_conforming_model_byte_for_byte() {
    let code = Model::namespace("conforming_in_rust", PlainNamespace);
    assert!(same_as("conforming", NAMESPACE, code) >= 30);
}

#[test]
fn namespace_mutants_written_in_rust_match_their_built_in_twins() {
    let twins = [
        (
            "nsp_cleanup_on_first_call",
            Model::namespace(IN_RUST, NspEveryTime),
        ),
        (
            "nsp_accepts_any_provider_id",
            Model::namespace(IN_RUST, AnyProviderId),
        ),
        ("conforming_minimal", Model::namespace(IN_RUST, Minimal)),
    ];
    for (twin, code) in twins {
        assert!(
            same_as(twin, NAMESPACE, code) > 0,
            "{twin}: nothing compared"
        );
    }
}

/// Takes the lock, enters it again and leaves once (as a routine that calls
/// `conforming::startup` under its own lock does), then reads and writes the count
/// across a yield: the lock counts its entries, so the write is still under it.
struct LocksTwice;
impl Transport for LocksTwice {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        spi.lock().await;
        spi.unlock();
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            spi.unlock();
            return Reply::fail(WSANOTINITIALISED);
        }
        spi.yield_now().await;
        spi.with(|g: &mut Globals| g.refcount = before - 1);
        if before == 1 {
            conforming::final_cleanup(spi).await;
        }
        spi.unlock();
        conforming::cleaned_up(spi, before, before - 1)
    }
}

/// Globals of two types, one used inside the other.
#[derive(Default)]
struct Outer(u32);
#[derive(Default)]
struct Inner(u32);
struct Nests;
impl Transport for Nests {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        spi.with(|outer: &mut Outer| {
            outer.0 += spi.with(|inner: &mut Inner| {
                inner.0 += 1;
                inner.0
            })
        });
        spi.with(|inner: &mut Inner| inner.0 += spi.with(|outer: &mut Outer| outer.0));
        conforming::startup(spi).await
    }
}

/// The handle's lock is a critical section: entered twice by one thread, it is held
/// until left twice; nested `with` calls on globals of two types work in either order.
#[test]
fn the_lock_counts_its_entries_and_globals_nest() {
    let lesson = shipped_path("scenarios/teach/racy-refcount.ron");
    let sim = Sim::from_file(&lesson).expect("loads");
    let locked = sim
        .clone()
        .provider("msafd", Model::code("locks_twice", LocksTwice));
    let explored = locked
        .explore(ws2sim::Strategy::Random, 300, 1)
        .expect("explores");
    assert!(explored.violated().is_empty(), "{:?}", explored.violated());
    let nested = sim.provider("msafd", Model::code("nests", Nests));
    let ran = nested.seed(0).run().expect("runs");
    assert!(ran.panic().is_none(), "{:?}", ran.panic());
}

/// Knobs given through the library are held to the provider's kind, as a scenario's are.
#[test]
fn knobs_of_another_kind_are_refused_through_the_library() {
    let file = shipped_path("scenarios/contracts/lingering-data.ron");
    let sim = Sim::from_file(&file).expect("loads");
    let model = Model::knobs("(san: (cancel: DropWithoutUpcall))").expect("knobs");
    let error = sim.provider("msafd", model).run().err().expect("refused");
    let text = error.to_string();
    assert!(
        text.contains("is a Transport provider") && text.contains("san.cancel"),
        "{text}"
    );
}

/// NSPStartup and NSPCleanup that keep nothing and report no count.
struct Uncounted;
impl Namespace for Uncounted {
    async fn nsp_startup(&self, _: &Spi<'_>) -> Reply {
        Reply::ok()
    }

    async fn nsp_cleanup(&self, _: &Spi<'_>) -> Reply {
        Reply::ok()
    }
}

/// A namespace provider written in Rust that reports no count is counted by the
/// NSPStartup and NSPCleanup calls that succeeded: its lookups work between them.
#[test]
fn an_uncounted_namespace_model_is_counted_by_its_calls() {
    let file = shipped_path("scenarios/contracts/nsp-lookup-two-threads.ron");
    let sim = Sim::from_file(&file).expect("loads");
    let ran = sim
        .provider("dnsnsp", Model::namespace("uncounted", Uncounted))
        .seed(0)
        .run()
        .expect("runs");
    let trace = ran.trace();
    assert!(trace.contains("NSPLookupServiceBegin("), "{trace}");
    assert!(!trace.contains("WSAEINVAL"), "{trace}");
}

/// A start-up that fails with `reply`, every time.
struct FailsToStart(Reply);
impl Transport for FailsToStart {
    async fn startup(&self, _: &Spi<'_>) -> Reply {
        self.0
    }
}

/// WSPStartup has no lpErrno: its page says it returns the error code itself.
/// `Reply::fail` does so, and a start-up that returns SOCKET_ERROR with the code set
/// aside breaks the convention, as one returning an undocumented code does.
#[test]
fn a_failing_start_up_returns_its_error_code_itself() {
    let file = shipped_path("scenarios/contracts/failed-startup.ron");
    let run_with = |reply: Reply| {
        let model = Model::code("fails", FailsToStart(reply));
        Sim::from_file(&file)
            .unwrap()
            .provider("msafd", model)
            .run()
            .unwrap()
    };
    let line = "msafd!WSPStartup(entry 1001)                       -> WSASYSNOTREADY (10091)";
    for reply in [
        Reply::fail(WSASYSNOTREADY),
        Reply::returns(WSASYSNOTREADY as i32, None),
    ] {
        let run = run_with(reply);
        assert!(run.trace().contains(line), "{}", run.trace());
        assert!(!run.violated().contains(&"spi.return_convention"));
    }
    let run = run_with(Reply::returns(SOCKET_ERROR, Some(WSASYSNOTREADY)));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with WSASYSNOTREADY (10091) but returned -1, not the code \
         itself (10091): WSPStartup has no lpErrno"
    );
    let run = run_with(Reply::returns(1, None));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with UNKNOWN_ERROR (1), which WSPStartup does not document"
    );
    // WSA_NOT_ENOUGH_MEMORY, which WSPStartup's page does not list, only from a start-up
    // whose own allocation a `FailAlloc` fault failed (model choice "Failed
    // allocations"): this one's did not.
    let run = run_with(Reply::fail(WSA_NOT_ENOUGH_MEMORY));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with WSA_NOT_ENOUGH_MEMORY (8), which WSPStartup does not \
         document: ws2sim accepts it only from a start-up whose own allocation failed (a \
         FailAlloc fault), and no allocation of msafd's failed in this call"
    );
}

/// A base provider whose allocation a `FailAlloc` fault fails returns
/// WSA_NOT_ENOUGH_MEMORY from its WSPStartup; the layer above passes WSASYSNOTREADY up
/// (model choice "Protocol chains": WSPStartup's page does not list the lower code),
/// and neither is flagged. The layer passing the lower code up is.
#[test]
fn a_layer_passes_a_lower_allocation_failure_up_as_sysnotready() {
    let text = r#"Scenario(
    name: "lsp-over-a-failed-allocation",
    about: "An LSP over a base whose start-up allocation fails.",
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport)],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Cleanup]),
    ])],
    faults: [FailAlloc(provider: "msafd", call: WSPStartup, nth: 1)],
)"#;
    let sim = Sim::from_str("lsp.ron", text).expect("valid");
    for lsp in [Model::named("conforming"), Model::code("plain", Plain)] {
        let run = sim.clone().provider("lsp", lsp).run().expect("runs");
        let trace = run.trace();
        assert!(
            trace.contains(
                "lsp!WSPStartup(entry 1010)                         -> WSASYSNOTREADY (10091)"
            ),
            "{trace}"
        );
        assert!(
            trace.contains(
                "msafd!WSPStartup(entry 1001) [from lsp]          -> WSA_NOT_ENOUGH_MEMORY (8)"
            ),
            "{trace}"
        );
        assert!(run.violated().is_empty(), "{trace}");
    }
    let run = sim
        .provider("lsp", Model::code("passes-it-up", PassesTheLowerCodeUp))
        .run();
    let run = run.expect("runs");
    assert_eq!(run.violated(), ["spi.return_convention"], "{}", run.trace());
}

/// A layer that answers a failed lower start-up with the code the base gave, though
/// WSPStartup's page does not list it (the test's base never starts).
struct PassesTheLowerCodeUp;
impl Transport for PassesTheLowerCodeUp {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        match spi.start_lower().await {
            Err(_) => Reply::fail(WSA_NOT_ENOUGH_MEMORY),
            Ok(()) => unreachable!("the base's only start-up fails"),
        }
    }
}

/// Keeps the instance memory of its first run in a static, and in every later run gives
/// that back at its final clean-up besides its own.
struct KeepsAHandle;
static KEPT: std::sync::Mutex<Option<ws2sim::spi::Held>> = std::sync::Mutex::new(None);
impl Transport for KeepsAHandle {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let memory = spi.with(|g: &mut Globals| g.memory);
        let kept = *KEPT.lock().unwrap();
        match (kept, memory) {
            (None, Some(memory)) => *KEPT.lock().unwrap() = Some(memory),
            (Some(kept), _) => spi.release(kept),
            _ => {}
        }
        conforming::cleanup(spi).await
    }
}

/// A handle ws2sim gives a provider is good in the run, process and provider it was
/// given in: kept from another run (where its index names another provider's resource,
/// or this one's anew), it is refused, and the run ends as the model's panic, naming
/// the line of the provider's code that used it.
#[test]
fn a_handle_kept_from_another_run_is_refused() {
    let sim = Sim::from_file(shipped_path("scenarios/contracts/two-providers.ron")).unwrap();
    let sim = sim
        .provider("msafd", Model::code("keeps", KeepsAHandle))
        .check_determinism(false);
    let first = sim.run().unwrap();
    assert!(first.panic().is_none(), "{:?}", first.panic());
    let second = sim.run().unwrap();
    let panic = second
        .panic()
        .expect("the second run refuses the kept handle");
    assert!(
        panic.contains(
            "msafd's model used a held resource it was not given in this run, by this \
             provider in this process"
        ) && panic.contains("tests/custom.rs"),
        "{panic}"
    );
}

/// Globals whose Drop panics, as the DLL unloads or its process ends.
#[derive(Default)]
struct BadGlobals(u32);
impl Drop for BadGlobals {
    fn drop(&mut self) {
        panic!("acme: the globals' Drop fails");
    }
}

/// The conforming provider, with globals whose Drop panics.
struct PanicsInDrop;
impl Transport for PanicsInDrop {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        spi.with(|g: &mut BadGlobals| g.0 += 1);
        conforming::startup(spi).await
    }
}

/// A panic in the Drop of a provider's globals ends the run as the model's panic, as one
/// in a routine does: it does not reach the caller's test.
#[test]
fn a_panic_in_the_drop_of_globals_ends_the_run_not_the_test() {
    let sim = Sim::from_file(shipped_path("scenarios/contracts/two-providers.ron")).unwrap();
    let run = sim
        .provider("msafd", Model::code("acme", PanicsInDrop))
        .run()
        .unwrap();
    let panic = run.panic().expect("the run ended on the panic");
    assert!(
        panic.starts_with("msafd!globals' Drop: acme: the globals' Drop fails"),
        "{panic}"
    );
    assert!(
        run.trace()
            .contains("run: panicked: msafd's globals' Drop (written in Rust)"),
        "{}",
        run.trace()
    );
}

/// A token is stamped with the models of its run: one printed with a model written in
/// Rust is refused with another Rust model, or with the built-in conforming model whose
/// knobs both carry, and the library names its own call in the refusal.
#[test]
fn a_token_of_one_rust_model_is_refused_with_another() {
    let sim = Sim::from_file("scenarios/teach/racy-refcount.ron").expect("loads");
    let racy = sim
        .clone()
        .provider("msafd", Model::code("racy_in_rust", Racy));
    let token = racy.clone().seed(3).run().expect("runs").schedule();
    assert!(racy.clone().replay(&token).expect("a token").run().is_ok());
    for other in [
        Model::code("plain_in_rust", Plain),
        Model::named("conforming"),
    ] {
        let refused = sim
            .clone()
            .provider("msafd", other)
            .replay(&token)
            .expect("a token")
            .run();
        let Err(error) = refused else {
            panic!("a token of racy_in_rust replayed with another model");
        };
        let said = error.to_string();
        assert!(said.contains("printed for another run"), "{said}");
        assert!(
            said.contains("Sim::replay") && !said.contains("--schedule"),
            "{said}"
        );
    }
}

/// A model that takes a scratch block of instance memory in each WSPCleanup before the
/// final one and gives them all back in the final one: a later start-up of the same
/// thread, which only counts itself, did not set the provider up (the refcount rule's
/// count of set-ups follows start-up calls, not whatever the thread took before).
struct ScratchInCleanup;

#[derive(Default)]
struct Scratch(Vec<ws2sim::spi::Held>);

impl Transport for ScratchInCleanup {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before > 1 {
            if let Some(block) = spi.allocate() {
                spi.with(|s: &mut Scratch| s.0.push(block));
            }
        } else {
            for block in spi.with(|s: &mut Scratch| std::mem::take(&mut s.0)) {
                spi.release(block);
            }
        }
        conforming::cleanup(spi).await
    }
}

#[test]
fn memory_a_clean_up_takes_sets_up_no_later_start_up() {
    let text = r#"Scenario(
    name: "scratch",
    about: "One thread starts twice, cleans up once and starts again.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "a", steps: [
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPCleanup),
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPCleanup),
        Spi(provider: "msafd", call: WSPCleanup),
    ])])],
)"#;
    let model = Model::code("scratch_in_cleanup", ScratchInCleanup);
    let sim = Sim::from_str("scratch.ron", text).expect("valid");
    let run = sim.provider("msafd", model).run().expect("runs");
    assert!(run.trace().contains("refcount 1->2"), "{}", run.trace());
    assert!(run.violated().is_empty(), "{}", run.trace());
}
