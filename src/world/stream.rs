//! The end-state hash of a run (a sweep counts distinct end states). The
//! world feeds each event to it as the event is recorded ([`crate::world::Cx::emit`]),
//! where the event's kind is known: hashing the finished stream afterwards had to find
//! each kind again, and those jumps cost a sweep more than the hashing itself.

use std::hash::{Hash, Hasher};

use crate::event::{Event, EventKind, Pid, ProviderIx, Tid};

/// A small, fixed hasher: the same events give the same hash in every process of the
/// same binary (shards compare hashes), unlike std's randomly keyed one. Each write is
/// mixed into the lane written four writes before, so four mixes are in flight at once
/// instead of each waiting for the last. The lanes form a ring, `words` naming the next:
/// moving them down on each write had the processor read two lanes in one piece right
/// after writing them one by one, which stalls until those writes land.
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
            hash.kind(&event.kind);
            hash.place(event.time, event.process, event.thread, event.depth);
        }
        hash
    }

    /// Feeds an event's kind: a tag per variant, then its fields. Inlined into every
    /// [`Cx::emit`](crate::world::Cx::emit), where the variant is known, so the match
    /// folds away there (the derived `Hash` is too large to be inlined, and its jump on
    /// the variant was most of the cost). Every field is named: a new one must be fed.
    #[inline(always)]
    pub fn kind(&mut self, kind: &EventKind) {
        use EventKind as K;
        match kind {
            K::Call { id, call } => {
                self.mix(0);
                self.mix(u64::from(*id));
                call.hash(self);
            }
            K::Return {
                id,
                ret,
                error,
                detail,
            } => {
                self.mix(1);
                self.mix(u64::from(*id) | u64::from(*ret as u32) << 32);
                error.hash(self);
                detail.hash(self);
            }
            K::LoadLibrary { provider, count } => self.pair(2, *provider, *count),
            K::FreeLibrary { provider, count } => self.pair(3, *provider, *count),
            K::DllMain { provider, reason } => {
                self.mix(4 | u64::from(*provider) << 8);
                reason.hash(self);
            }
            K::ProviderCode {
                provider,
                what,
                image,
            } => {
                self.mix(5 | u64::from(*provider) << 8 | u64::from(*image) << 32);
                what.hash(self);
            }
            K::OpStarted {
                op,
                socket,
                kind,
                provider,
                mode,
            } => {
                self.mix(6 | u64::from(*provider) << 8);
                self.mix(u64::from(*op) | u64::from(*socket) << 32);
                kind.hash(self);
                mode.hash(self);
            }
            K::OpCompleted {
                op,
                socket,
                kind,
                provider,
                status,
                bytes,
                signals,
            } => {
                self.mix(7 | u64::from(*provider) << 8);
                self.mix(u64::from(*op) | u64::from(*socket) << 32);
                self.mix(u64::from(*status) | u64::from(*bytes) << 32);
                kind.hash(self);
                signals.hash(self);
            }
            K::Notification {
                provider,
                socket,
                fd,
                via,
            } => {
                self.mix(8 | u64::from(*provider) << 8);
                self.mix(u64::from(*socket) | u64::from(*fd) << 32);
                via.hash(self);
            }
            K::SocketReset { provider, socket } => self.pair(9, *provider, *socket),
            K::DataQueued { socket, bytes } => {
                self.mix(10);
                self.mix(u64::from(*socket) | u64::from(*bytes) << 32);
            }
            K::DataDelivered {
                socket,
                bytes,
                dll_loaded,
            } => {
                self.mix(11 | u64::from(*dll_loaded) << 8);
                self.mix(u64::from(*socket) | u64::from(*bytes) << 32);
            }
            K::DataDiscarded {
                socket,
                bytes,
                by,
                at_reset,
            } => {
                self.mix(12 | u64::from(*at_reset) << 8);
                self.mix(u64::from(*socket) | u64::from(*bytes) << 32);
                by.hash(self);
            }
            K::Acquire {
                resource,
                provider,
                what,
            } => {
                self.pair(13, *provider, *resource);
                what.hash(self);
            }
            K::Release {
                resource,
                provider,
                what,
                by,
            } => {
                self.pair(14, *provider, *resource);
                what.hash(self);
                by.hash(self);
            }
            K::AllocFailed { provider, nth } => self.pair(15, *provider, *nth),
            K::ThreadKilled => self.mix(16),
            K::Waits { on } => {
                self.mix(17);
                on.hash(self);
            }
            K::ProcessEnded { how } => {
                self.mix(18);
                how.hash(self);
            }
            K::HostRefused {
                provider,
                session_of,
                namespace,
                direct,
            } => {
                self.pair(19, *provider, *namespace);
                self.mix(u64::from(*session_of));
                // Mixed only when set, so that a client's refused lookup keeps its hash.
                if let Some(routine) = direct {
                    self.mix(*routine as u64 + 1);
                }
            }
            K::RundownRequested { provider, host } => {
                self.pair(20, *provider, u32::from(*host));
            }
            K::SessionDied {
                provider,
                session_of,
                cut_short,
                ended,
            } => {
                self.pair(21, *provider, u32::from(*session_of));
                // Both in one word, written only when either is set (the common session
                // that died uncut and not ended hashes as it always did): a routine and
                // `ended` written apart could not be told from each other.
                if cut_short.is_some() || *ended {
                    let routine = cut_short.map_or(0, |routine| routine as u64 + 1);
                    self.mix(1 << 63 | routine << 1 | u64::from(*ended));
                }
            }
            K::NullRoutineCalled { provider, routine } => {
                self.mix(22 | u64::from(*provider) << 8);
                routine.hash(self);
            }
            K::UnloadDeferred { provider, calls } => self.pair(23, *provider, *calls),
            K::NetworkDown => self.mix(24),
            K::RoutedSocketsLeftOpen {
                provider,
                san,
                sockets,
            } => {
                self.pair(25, *provider, *sockets);
                self.mix(u64::from(*san));
            }
        }
    }

    /// A variant's tag with a provider and a 32-bit field, in one word.
    #[inline(always)]
    fn pair(&mut self, tag: u64, provider: ProviderIx, value: u32) {
        self.mix(tag | u64::from(provider) << 8 | u64::from(value) << 32);
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
        let lane = &mut self.lanes[self.words as usize % 4];
        let mixed = (*lane ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        *lane = mixed ^ (mixed >> 29);
        self.words += 1;
    }
}

/// What the derived `Hash` of an event's parts writes ([`StreamHash::kind`]).
impl Hasher for StreamHash {
    fn write(&mut self, bytes: &[u8]) {
        // The length first: the last word is padded with zeros, so bytes that end in
        // zeros would otherwise feed what fewer bytes feed.
        self.mix(bytes.len() as u64);
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
        for lane in 0..4 {
            // From the lane written longest ago: the order the lanes had when they moved
            // down on each write, which keeps the hashes (and shard format 3) unchanged.
            let value = self.lanes[(self.words as usize + lane) % 4];
            z = (z ^ value.rotate_left(lane as u32 * 16)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        }
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::simulated;

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
                for seed in 0..4 {
                    let (world, _) = simulated(&scenario, &[], seed);
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

    /// Kinds that differ feed different words: over every kind of event the shipped
    /// scenarios and regressions record (every model of each provider's kind swapped
    /// in), the hash of a kind alone is as varied as the kinds.
    #[test]
    fn kinds_that_differ_hash_apart() {
        let mut kinds: std::collections::BTreeMap<String, u64> = Default::default();
        for file in &crate::shipped::ron_files(&["scenarios", "tests/regressions"]) {
            let scenario = crate::scenario::load_file(file).expect("loads");
            for (name, model) in crate::models::MODELS.iter().flat_map(|m| {
                let scenario = &scenario;
                scenario
                    .providers
                    .iter()
                    .filter(move |p| scenario.fits(p, m.kind, &m.behaviour))
                    .map(move |p| (p.name.clone(), m.name.to_string()))
            }) {
                let overrides = [(name, model)];
                for seed in 0..3 {
                    let (world, _) = simulated(&scenario, &overrides, seed);
                    for event in &world.events {
                        let mut hash = StreamHash::default();
                        hash.kind(&event.kind);
                        kinds.insert(format!("{:?}", event.kind), hash.finish());
                    }
                }
            }
        }
        let hashes: std::collections::BTreeSet<u64> = kinds.values().copied().collect();
        assert!(kinds.len() > 300, "{} kinds", kinds.len());
        assert_eq!(hashes.len(), kinds.len());
    }

    /// Bytes that differ only by zeros at their end feed different words.
    #[test]
    fn bytes_ending_in_zeros_hash_apart() {
        let fed = |bytes: &[u8]| {
            let mut hash = StreamHash::default();
            hash.write(bytes);
            hash.finish()
        };
        assert_ne!(fed(b"host"), fed(b"host\0"));
        assert_ne!(fed(b""), fed(b"\0"));
    }

    /// A session that died cut short in its NSPv2Cleanup and one whose NSPv2Cleanup had
    /// ended it feed different words (they fed the same two, a run's end state could
    /// not tell them apart, and runs with different verdicts could share it).
    #[test]
    fn a_session_cut_short_and_one_ended_hash_apart() {
        use crate::event::NspV2Routine as R;
        let cuts = [
            None,
            Some(R::NSPv2Cleanup),
            Some(R::NSPv2ClientSessionRundown),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for cut_short in cuts {
            for ended in [false, true] {
                let mut hash = StreamHash::default();
                hash.kind(&EventKind::SessionDied {
                    provider: 1,
                    session_of: 2,
                    cut_short,
                    ended,
                });
                assert!(seen.insert(hash.finish()), "{cut_short:?}, {ended}");
            }
        }
    }
}
