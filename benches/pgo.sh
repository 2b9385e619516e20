#!/bin/sh
# A profile-guided build of ws2sim (issue 8's speed figures). Sweeps give the same output
# in it as in the plain release build, and get through more schedules a second: about 30%
# more on the racy-refcount lesson, 0 to 20% more on four other shipped scenarios.
#
#   benches/pgo.sh            build target/pgo/release/ws2sim
#   benches/pgo.sh bench      then time `explore` on the racy-refcount lesson in it and in
#                             the plain release build, round after round
#
# Needs LLVM's llvm-profdata from the toolchain: `rustup component add llvm-tools`.
# The profile is taken here, from sweeps of every shipped scenario, and never committed:
# it belongs to one compiler and one revision of the code.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/pgo-work"
out="$root/target/pgo"

case "${1:-}" in
"" | bench) ;;
*)
    echo "usage: benches/pgo.sh [bench]" >&2
    exit 2
    ;;
esac

# Runs ws2sim to its end, output dropped: exit codes 0 and 1 (a violation found) both
# mean a finished run; any other stops the script.
run_to_end() {
    status=0
    "$@" >/dev/null || status=$?
    if [ "$status" -gt 1 ]; then
        echo "benches/pgo.sh: exit code $status from: $*" >&2
        exit 1
    fi
}

profdata=$(find "$(rustc --print sysroot)" -name llvm-profdata -type f 2>/dev/null | head -n 1)
if [ -z "$profdata" ]; then
    echo "benches/pgo.sh: llvm-profdata not found; install it with: rustup component add llvm-tools" >&2
    exit 2
fi

# 1. An instrumented build. The flags are passed encoded, so that a folder name may hold
# spaces; they replace RUSTFLAGS and the build flags of any config file.
CARGO_ENCODED_RUSTFLAGS="-Cprofile-generate=$work/profiles" \
    cargo build --release --manifest-path "$root/Cargo.toml" --target-dir "$work/build"
# Build scripts and proc macros wrote profiles of their own while building: drop them.
rm -rf "$work/profiles"
mkdir -p "$work/profiles"

# 2. Training: each shipped scenario run once and swept by each strategy, so that the
# profile is the program's ordinary work, not the one benchmark's.
bin="$work/build/release/ws2sim"
find "$root/scenarios" -name '*.ron' | sort | while read -r scenario; do
    run_to_end "$bin" run "$scenario"
    for strategy in random pct exhaustive; do
        run_to_end "$bin" explore "$scenario" --strategy "$strategy" --runs 5000 --jobs 1
    done
done
"$profdata" merge -o "$work/ws2sim.profdata" "$work/profiles"

# 3. The optimised build, in a target folder of its own.
CARGO_ENCODED_RUSTFLAGS="-Cprofile-use=$work/ws2sim.profdata" \
    cargo build --release --manifest-path "$root/Cargo.toml" --target-dir "$out"
echo "benches/pgo.sh: built $out/release/ws2sim" >&2

if [ "${1:-}" = bench ]; then
    # The binaries, not `cargo bench`: a bench is a crate of its own, whose copies of the
    # generic sweep code are not in the profile. Run it on one core (taskset -c 1).
    # Empty flags, as the profile-guided build has none but its own: a RUSTFLAGS of the
    # caller's would make the comparison unfair.
    CARGO_ENCODED_RUSTFLAGS="" cargo build --release --manifest-path "$root/Cargo.toml"
    lesson="$root/scenarios/teach/racy-refcount.ron"
    runs=1000000
    for round in 1 2 3; do
        for build in plain pgo; do
            if [ "$build" = pgo ]; then bin="$out/release/ws2sim"; else bin="$root/target/release/ws2sim"; fi
            for model in racy_refcount conforming; do
                start=$(date +%s.%N)
                run_to_end "$bin" explore "$lesson" --runs "$runs" --jobs 1 --provider-model "msafd=$model"
                end=$(date +%s.%N)
                echo "$round $build $model $start $end" |
                    awk -v runs="$runs" '{ printf "round %s  %-7s  %-13s  %6.0fk schedules/s\n", $1, $2, $3, runs / ($5 - $4) / 1000 }'
            done
        done
    done
fi
