//! The end-state hash of a run (SPEC section 8: a sweep counts distinct end states). The
//! world feeds each event to it as the event is recorded ([`crate::world::Cx::emit`]),
//! where the event's kind is known: hashing the finished stream afterwards had to find
//! each kind again, and those jumps cost a sweep more than the hashing itself.

use std::hash::{Hash, Hasher};

use crate::event::{Event, Pid, Tid};

/// A small, fixed hasher: the same events give the same hash in every process of the
/// same binary (shards compare hashes), unlike std's randomly keyed one. Each write is
/// mixed into the lane written four writes before, so four mixes are in flight at once
/// instead of each waiting for the last.
#[derive(Clone)]
pub struct StreamHash {
    lanes: [u64; 4],
    words: u64,
}

impl Default for StreamHash {
    fn default() -> Self {
        Self {
            lanes: [
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
                0x082e_fa98_ec4e_6c89,
            ],
            words: 0,
        }
    }
}

impl StreamHash {
    /// The hash of recorded events, fed as [`Cx`](crate::world::Cx) feeds them: for each,
    /// its kind, then where and when it happened ([`StreamHash::place`]).
    pub fn of(events: &[Event]) -> Self {
        let mut hash = Self::default();
        for event in events {
            event.kind.hash(&mut hash);
            hash.place(event.time, event.process, event.thread, event.depth);
        }
        hash
    }

    /// The fields of an event besides its kind: the time, then the process, thread and
    /// depth in one word.
    #[inline]
    pub fn place(&mut self, time: u64, process: Pid, thread: Option<Tid>, depth: u8) {
        let thread = thread.map_or(0, |tid| u64::from(tid) + 1);
        self.mix(time);
        self.mix(u64::from(process) | thread << 16 | u64::from(depth) << 40);
    }

    /// The end state: the events fed, how many there were, and how the run ended.
    pub fn end_state(&self, events: usize, ending: impl Hash) -> u64 {
        let mut hash = self.clone();
        hash.write_usize(events);
        ending.hash(&mut hash);
        hash.finish()
    }

    #[inline(always)]
    fn mix(&mut self, word: u64) {
        let [a, b, c, d] = self.lanes;
        let mixed = (a ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.lanes = [b, c, d, mixed ^ (mixed >> 29)];
        self.words += 1;
    }
}

/// What [`EventKind`]'s derived `Hash` writes. Every method is inlined, so that at a call
/// site whose kind is known the hashing is straight-line code.
impl Hasher for StreamHash {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }
    #[inline(always)]
    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }
    #[inline(always)]
    fn write_u16(&mut self, value: u16) {
        self.mix(u64::from(value));
    }
    #[inline(always)]
    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }
    #[inline(always)]
    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }
    #[inline(always)]
    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }
    #[inline(always)]
    fn write_isize(&mut self, value: isize) {
        self.mix(value as u64);
    }
    #[inline(always)]
    fn write_i32(&mut self, value: i32) {
        self.mix(u64::from(value as u32));
    }
    /// The lanes and the number of words, through splitmix64's finaliser, so that near
    /// streams land far apart.
    fn finish(&self) -> u64 {
        let mut z = self.words;
        for (lane, value) in self.lanes.iter().enumerate() {
            z = (z ^ value.rotate_left(lane as u32 * 16)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        }
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::world::Shared;

    /// The hash fed while a run records its events is the hash of the events it recorded,
    /// for every shipped scenario and regression, whole and cut short by a small event
    /// budget: every event recorded is fed once, and an event the budget drops is not.
    #[test]
    fn the_hash_fed_during_a_run_is_the_hash_of_its_events() {
        let mut cut = 0;
        for file in &crate::shipped::ron_files(&["scenarios", "tests/regressions"]) {
            for events_max in [None, Some(7)] {
                let mut scenario = crate::scenario::load_file(file).expect("loads");
                if let Some(max) = events_max {
                    scenario.budget.events_max = max;
                }
                let models = crate::run::resolve_models(&scenario, &[]).expect("valid");
                let ws2_model = crate::ws2::find_model("conforming").expect("registered");
                let shared = Shared::new(Rc::new(scenario), models, ws2_model);
                for seed in 0..4 {
                    let scheduler = Box::new(sim::RandomScheduler::new(seed));
                    let world = crate::run::simulate(&shared, scheduler, Vec::new()).world;
                    cut += usize::from(world.events_exhausted);
                    assert_eq!(
                        StreamHash::of(&world.events).finish(),
                        world.stream.finish(),
                        "{}, seed {seed}, budget {events_max:?}",
                        file.display()
                    );
                }
            }
        }
        assert!(cut > 20, "the small budget cut runs short ({cut})");
    }
}
