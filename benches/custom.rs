//! `cargo bench --bench custom [-- SCHEDULES [ROUNDS]]`: the racy-refcount lesson
//! explored with msafd given the built-in conforming model and with the conforming
//! provider written in Rust (`ws2sim::Transport` with every default), round after
//! round in one process, alternating, so both meet the same machine. Prints schedules
//! per second (elapsed time) for each round. The determinism check is off on both sides
//! (for code it is on by default and doubles the work).
//!
//! For instruction counts, run the bench binary under `valgrind --tool=callgrind` with
//! one side only: `built-in 20000 1` or `rust 20000 1`, and divide the inclusive count
//! under `Explorer::run` by the schedules.

use std::time::Instant;

use ws2sim::{Model, Sim, Strategy, Transport};

/// The conforming provider, every routine left to the trait's defaults.
struct Defaults;
impl Transport for Defaults {}

fn lesson(model: Model) -> Sim {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    let sim = Sim::from_file(file).expect("the lesson loads");
    sim.provider("msafd", model)
}

fn sweep(sim: &Sim, schedules: u64) -> f64 {
    let start = Instant::now();
    let explored = sim.explore(Strategy::Random, schedules, 1).expect("valid");
    assert_eq!(explored.schedules(), schedules);
    schedules as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (sides, rest): (Vec<&str>, Vec<&str>) = args
        .iter()
        .map(String::as_str)
        .partition(|a| *a == "built-in" || *a == "rust");
    let number =
        |i: usize, default: u64| rest.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (schedules, rounds) = (number(0, 20_000), number(1, 5));
    let built_in = lesson(Model::named("conforming"));
    // The determinism check (on by default for code) runs every schedule twice: off
    // here, so that both sides do the same work.
    let rust = lesson(Model::code("conforming_in_rust", Defaults)).check_determinism(false);
    let both = sides.is_empty();
    for round in 1..=rounds {
        if both || sides.contains(&"built-in") {
            println!(
                "round {round}: built-in {:>9.0} schedules/s",
                sweep(&built_in, schedules)
            );
        }
        if both || sides.contains(&"rust") {
            println!(
                "round {round}: in Rust  {:>9.0} schedules/s",
                sweep(&rust, schedules)
            );
        }
    }
}
