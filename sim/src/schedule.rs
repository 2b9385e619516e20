use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Every decision of one run, in order: task choices (an index into the runnable list)
/// and random draws. Replaying the same decisions over the same scenario and binary
/// reproduces the run exactly. Its token carries a stamp besides, a number the embedder
/// derives from what the run was a run of, so that a token is refused where it was not
/// printed (the kernel only carries it).
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// Shared: a replay reads them where they are, a schedule read from a long token
    /// being the largest thing a command holds.
    decisions: Decisions,
}

/// A schedule's decisions, a byte each where every one fits in a byte (task choices
/// and small draws nearly always do; a token's are kept so when each is below 128, a
/// byte as written): a long token then takes less memory decoded than as text, not
/// eight times more.
#[derive(Clone, Debug)]
enum Decisions {
    Narrow(Arc<[u8]>),
    Wide(Arc<[u64]>),
}

impl Default for Decisions {
    fn default() -> Self {
        Decisions::Narrow(Arc::from([]))
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|at| self.get(at) == other.get(at))
    }
}

impl Eq for Schedule {}

impl Hash for Schedule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len().hash(state);
        for at in 0..self.len() {
            self.get(at).hash(state);
        }
    }
}

/// Why a schedule token could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The token does not start with the version prefix `s2`.
    Prefix,
    /// An `s1` token: an earlier version's, which carried no stamp.
    Unstamped,
    /// A character outside the token alphabet, at this position (the first is 1; what
    /// comes before it is ASCII, so bytes and characters count alike).
    Character(usize),
    /// The token ends in the middle of a number.
    Truncated,
    /// A number of the token does not fit in 64 bits (its stamp, in 32).
    Overflow,
    /// The token is not as ws2sim writes it: characters past its last number, or a
    /// number written with more characters than it needs. It would name a schedule
    /// another token already names.
    NotCanonical,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Prefix => write!(f, "a schedule token starts with `s2`"),
            TokenError::Unstamped => write!(
                f,
                "an `s1` token comes from an earlier version, whose tokens did not say what \
                 they were printed for; run the scenario again for an `s2` token"
            ),
            TokenError::Character(at) => {
                write!(
                    f,
                    "character {at} of the schedule token is not in its alphabet (a-z, 2-7)"
                )
            }
            TokenError::Truncated => write!(f, "the schedule token is cut short"),
            TokenError::Overflow => {
                write!(
                    f,
                    "a number in the schedule token does not fit in 64 bits (its first, the \
                     stamp, in 32)"
                )
            }
            TokenError::NotCanonical => write!(
                f,
                "the schedule token is not one ws2sim writes (characters past its last \
                 number, or a number padded with zeros); copy the token whole"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const PREFIX: &str = "s2";
const UNSTAMPED: &str = "s1";

/// The token of `bytes`: the prefix, then 5 bits per character, the last one's spare
/// bits zero.
fn token_of(bytes: &[u8]) -> String {
    let mut token = String::from(PREFIX);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            token.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        token.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    token
}

impl Schedule {
    pub fn new(decisions: Vec<u64>) -> Self {
        let decisions = if decisions.iter().all(|&d| d <= u64::from(u8::MAX)) {
            Decisions::Narrow(decisions.iter().map(|&d| d as u8).collect())
        } else {
            Decisions::Wide(decisions.into())
        };
        Self { decisions }
    }

    /// Decision `at` (the first is 0), if the schedule has one there.
    #[inline]
    pub fn get(&self, at: usize) -> Option<u64> {
        match &self.decisions {
            Decisions::Narrow(bytes) => bytes.get(at).map(|&d| u64::from(d)),
            Decisions::Wide(words) => words.get(at).copied(),
        }
    }

    /// The decisions, borrowed where they are kept a word each.
    pub fn decisions(&self) -> Cow<'_, [u64]> {
        match &self.decisions {
            Decisions::Narrow(bytes) => bytes.iter().map(|&d| u64::from(d)).collect(),
            Decisions::Wide(words) => Cow::Borrowed(words),
        }
    }

    pub fn len(&self) -> usize {
        match &self.decisions {
            Decisions::Narrow(bytes) => bytes.len(),
            Decisions::Wide(words) => words.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short printable token: `s2`, then `stamp` and the decisions as LEB128 varints
    /// in base32.
    pub fn to_token(&self, stamp: u32) -> String {
        let mut bytes = Vec::with_capacity(self.len() + 5);
        let decisions = (0..self.len()).filter_map(|at| self.get(at));
        let numbers = std::iter::once(u64::from(stamp)).chain(decisions);
        for number in numbers {
            let mut value = number;
            loop {
                let low = (value & 0x7f) as u8;
                value >>= 7;
                if value == 0 {
                    bytes.push(low);
                    break;
                }
                bytes.push(low | 0x80);
            }
        }
        token_of(&bytes)
    }

    /// The schedule a token names, and the stamp it carries.
    pub fn from_token(token: &str) -> Result<(Self, u32), TokenError> {
        let (count, narrow) = numbers_in(token)?;
        // Made at their final size and filled in place: a `Vec` turned into an `Arc<[_]>`
        // would be copied, twice the memory at the peak.
        fn filled<T: Copy + Default>(
            token: &str,
            count: usize,
            of: impl Fn(u64) -> T,
        ) -> Result<(Arc<[T]>, u32), TokenError> {
            let mut shared: Arc<[T]> = std::iter::repeat_n(T::default(), count - 1).collect();
            let decisions = Arc::get_mut(&mut shared).expect("not shared yet");
            let mut at = 0;
            let stamp = decode(token, |decision| {
                decisions[at] = of(decision);
                at += 1;
            })?;
            Ok((shared, stamp))
        }
        let (decisions, stamp) = if narrow {
            let (bytes, stamp) = filled(token, count, |d| d as u8)?;
            (Decisions::Narrow(bytes), stamp)
        } else {
            let (words, stamp) = filled(token, count, |d| d)?;
            (Decisions::Wide(words), stamp)
        };
        Ok((Self { decisions }, stamp))
    }

    /// The stamp `token` carries, the whole token checked as [`Schedule::from_token`]
    /// checks it but none of its decisions kept: a token printed for another run is
    /// refused before its decisions take any memory (a token may be hundreds of
    /// megabytes).
    pub fn token_stamp(token: &str) -> Result<u32, TokenError> {
        numbers_in(token)?;
        decode(token, |_| {})
    }
}

/// How many numbers (the stamp, then the decisions) `token` holds, and whether every
/// decision fits in a byte, its characters and padding checked: a first pass, so that a
/// second can fill a list of exactly that length.
fn numbers_in(token: &str) -> Result<(usize, bool), TokenError> {
    let body = body_of(token)?;
    // Bytes without their high bit end a number. A decision written in two bytes or
    // more (128 and up) makes the schedule one of words: 128 to 255 would fit a byte,
    // but are rare enough not to be told apart here.
    let mut count = 0;
    let mut narrow = true;
    let mut continued = false;
    let tail = token_bytes(body, |byte| {
        if count > 0 && continued {
            narrow = false;
        }
        continued = byte & 0x80 != 0;
        if !continued {
            count += 1;
        }
    })?;
    // The encoder pads the last byte's bits with fewer than 5 zero bits.
    let (buffer, bits) = tail;
    if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
        return Err(TokenError::NotCanonical);
    }
    if count == 0 {
        return Err(TokenError::Truncated);
    }
    Ok((count, narrow))
}

/// The body of a token, after its prefix.
fn body_of(token: &str) -> Result<&str, TokenError> {
    token
        .strip_prefix(PREFIX)
        .ok_or(if token.starts_with(UNSTAMPED) {
            TokenError::Unstamped
        } else {
            TokenError::Prefix
        })
}

/// Decodes the numbers of a token [`numbers_in`] checked: returns the first, its
/// stamp, and gives each decision after it to `keep`, in order.
fn decode(token: &str, mut keep: impl FnMut(u64)) -> Result<u32, TokenError> {
    let body = body_of(token)?;
    let mut stamp = None;
    let mut value: u64 = 0;
    let mut shift = 0;
    let mut open = false;
    let mut wrong = None;
    token_bytes(body, |byte| {
        if wrong.is_some() {
            return;
        }
        let low = u64::from(byte & 0x7f);
        if shift > 63 || (shift == 63 && (low > 1 || byte & 0x80 != 0)) {
            wrong = Some(TokenError::Overflow);
            return;
        }
        // A number's last byte is never a zero after others: that is padding.
        if shift > 0 && byte == 0 {
            wrong = Some(TokenError::NotCanonical);
            return;
        }
        value |= low << shift;
        if byte & 0x80 != 0 {
            shift += 7;
            open = true;
            return;
        }
        match stamp {
            None => match u32::try_from(value) {
                Ok(first) => stamp = Some(first),
                Err(_) => wrong = Some(TokenError::Overflow),
            },
            Some(_) => keep(value),
        }
        value = 0;
        shift = 0;
        open = false;
    })?;
    if let Some(wrong) = wrong {
        return Err(wrong);
    }
    match (open, stamp) {
        (false, Some(stamp)) => Ok(stamp),
        _ => Err(TokenError::Truncated),
    }
}

/// Calls `each` with every byte the base32 `body` of a token encodes, in order; returns
/// the bits left over (the buffer and how many of its low bits are unused), or the
/// position of a character outside the alphabet.
fn token_bytes(body: &str, mut each: impl FnMut(u8)) -> Result<(u32, u32), TokenError> {
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for (offset, character) in body.bytes().enumerate() {
        let value = ALPHABET
            .iter()
            .position(|&a| a == character)
            .ok_or(TokenError::Character(offset + PREFIX.len() + 1))?;
        buffer = ((buffer << 5) | value as u32) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            each((buffer >> bits) as u8);
        }
    }
    Ok((buffer, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token is read only as ws2sim writes it: one token per schedule and stamp.
    #[test]
    fn only_the_written_token_is_read() {
        let schedule = Schedule::new(vec![1, 0, 2, 300, u64::MAX]);
        let token = schedule.to_token(7);
        // Characters past the last number are refused, or they name other numbers, in
        // the one token of that schedule.
        for extra in ["a", "b", "q", "aaa", "aaaa"] {
            let longer = format!("{token}{extra}");
            match Schedule::from_token(&longer) {
                Err(error) => assert_eq!(error, TokenError::NotCanonical, "{longer}"),
                Ok((read, stamp)) => {
                    assert_ne!(read, schedule, "{longer}");
                    assert_eq!(read.to_token(stamp), longer);
                }
            }
        }
        assert_eq!(
            Schedule::from_token(&format!("{token}b")),
            Err(TokenError::NotCanonical)
        );
        // 0 written as two bytes (0x80 0x00), and 2^64 (ten bytes).
        assert_eq!(
            Schedule::from_token("s2qaaa"),
            Err(TokenError::NotCanonical)
        );
        let over = Schedule::new(vec![u64::MAX]).to_token(0);
        let mut bytes = vec![0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        bytes.push(0x02);
        let wider = token_of(&bytes);
        assert_ne!(wider, over);
        assert_eq!(Schedule::from_token(&wider), Err(TokenError::Overflow));
        // A stamp of 2^32.
        let stamp = token_of(&[0x80, 0x80, 0x80, 0x80, 0x10]);
        assert_eq!(Schedule::from_token(&stamp), Err(TokenError::Overflow));
    }

    #[test]
    fn tokens_round_trip() {
        for decisions in [
            vec![],
            vec![0],
            vec![1, 0, 2, 127, 128, 300, u64::MAX],
            (0..200).map(|i| i % 5).collect(),
        ] {
            for stamp in [0, 1, 0x1234_5678, u32::MAX] {
                let schedule = Schedule::new(decisions.clone());
                let token = schedule.to_token(stamp);
                assert!(token.starts_with("s2"));
                assert_eq!(Schedule::from_token(&token), Ok((schedule, stamp)));
            }
        }
    }

    #[test]
    fn bad_tokens_are_refused() {
        assert_eq!(Schedule::from_token("x1abc"), Err(TokenError::Prefix));
        assert_eq!(Schedule::from_token("s1abc"), Err(TokenError::Unstamped));
        assert_eq!(Schedule::from_token("s2ab!"), Err(TokenError::Character(5)));
        // A single continuation byte (0x80) and nothing after it; no stamp at all.
        assert_eq!(Schedule::from_token("s2qa"), Err(TokenError::Truncated));
        assert_eq!(Schedule::from_token("s2"), Err(TokenError::Truncated));
    }

    /// `token_stamp` reads what `from_token` reads, without the decisions: the same
    /// stamp for a good token, the same error for a bad one.
    #[test]
    fn a_tokens_stamp_is_read_as_the_whole_token_is() {
        let good = Schedule::new(vec![0, 3, 1 << 40, u64::MAX]).to_token(77);
        let mut bad: Vec<String> = ["x1abc", "s1abc", "s2ab!", "s2qa", "s2"]
            .map(str::to_string)
            .to_vec();
        // Cut short, a character changed at the end, padding that is not zero.
        bad.push(good[..good.len() - 1].to_string());
        bad.push(format!("{}!", &good[..good.len() - 1]));
        bad.push(format!("{good}7"));
        for token in std::iter::once(&good).chain(&bad) {
            assert_eq!(
                Schedule::token_stamp(token),
                Schedule::from_token(token).map(|(_, stamp)| stamp),
                "{token}"
            );
        }
        assert_eq!(Schedule::token_stamp(&good), Ok(77));
    }

    /// A token whose decisions each fit in a byte decodes to a byte each (a long token
    /// takes less memory decoded than as text); one with a wider decision, to words. The
    /// two kinds hold their values alike, and compare and hash by them.
    #[test]
    fn decisions_are_kept_a_byte_each_where_they_fit() {
        use std::hash::BuildHasher;
        let narrow = |schedule: &Schedule| matches!(schedule.decisions, Decisions::Narrow(_));
        let small: Vec<u64> = (0..1000).map(|i| i % 128).collect();
        let (read, _) = Schedule::from_token(&Schedule::new(small.clone()).to_token(9)).unwrap();
        assert!(narrow(&read));
        assert_eq!(read.decisions(), &small[..]);
        assert_eq!((read.get(999), read.get(1000)), (Some(999 % 128), None));
        for wide in [vec![3, 128], vec![3, 300], vec![u64::MAX]] {
            let (read, _) = Schedule::from_token(&Schedule::new(wide.clone()).to_token(9)).unwrap();
            assert!(!narrow(&read), "{wide:?}");
            assert_eq!(read.decisions(), &wide[..]);
        }
        // The same values kept both ways are the same schedule.
        let words = Schedule {
            decisions: Decisions::Wide(vec![1, 2, 3].into()),
        };
        let bytes = Schedule::new(vec![1, 2, 3]);
        assert!(narrow(&bytes) && !narrow(&words));
        assert_eq!(bytes, words);
        let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
        assert_eq!(hasher.hash_one(&bytes), hasher.hash_one(&words));
        assert_ne!(bytes, Schedule::new(vec![1, 2]));
    }
}
