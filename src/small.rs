//! Small ordered maps and sets for the world and the checkers. A run has a handful of
//! processes, providers, calls and resources, so a sorted array kept inline (spilling to
//! the heap past `N` entries) does with no allocation and a few comparisons what a
//! `BTreeMap` does with nodes to build, search and drop; `explore` makes and checks
//! every run of a sweep with them. A map that grows past [`SPILL`] entries (a wide
//! scenario: a thousand providers in each of hundreds of processes) moves into a
//! `BTreeMap`, where inserting and removing cost a logarithm rather than a move of every
//! later entry. Iteration is in key order either way, as with `BTreeMap`, so no trace and
//! no checker's output depends on which one holds the entries.

use std::collections::{BTreeMap, btree_map};
use std::ops::{Bound, Index, RangeBounds};

use smallvec::SmallVec;

/// Entries kept inline before a map spills to the heap.
pub const INLINE: usize = 4;

/// Entries kept in a sorted array before a map moves into a tree.
pub const SPILL: usize = 64;

#[derive(Clone, Debug)]
pub struct SmallMap<K, V, const N: usize = INLINE> {
    store: Store<K, V, N>,
}

#[derive(Clone, Debug)]
enum Store<K, V, const N: usize> {
    Sorted(SmallVec<[(K, V); N]>),
    Tree(BTreeMap<K, V>),
}

impl<K, V, const N: usize> Default for SmallMap<K, V, N> {
    fn default() -> Self {
        Self {
            store: Store::Sorted(SmallVec::new()),
        }
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Where the entries of `range` begin and end in the sorted `entries` (an empty span
/// for a range that holds no key).
fn span<K: Ord, V>(entries: &[(K, V)], range: &impl RangeBounds<K>) -> (usize, usize) {
    let start = match range.start_bound() {
        Bound::Included(low) => entries.partition_point(|(k, _)| k < low),
        Bound::Excluded(low) => entries.partition_point(|(k, _)| k <= low),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(high) => entries.partition_point(|(k, _)| k <= high),
        Bound::Excluded(high) => entries.partition_point(|(k, _)| k < high),
        Bound::Unbounded => entries.len(),
    };
    (start, end.max(start))
}

/// Whether `range` holds no key at all (`BTreeMap::range` refuses such a range).
fn is_empty_range<K: Ord>(range: &impl RangeBounds<K>) -> bool {
    match (range.start_bound(), range.end_bound()) {
        (Bound::Included(low), Bound::Included(high)) => low > high,
        (Bound::Included(low) | Bound::Excluded(low), Bound::Excluded(high))
        | (Bound::Excluded(low), Bound::Included(high)) => low >= high,
        _ => false,
    }
}

impl<K: Ord, V, const N: usize> SmallMap<K, V, N> {
    fn find(entries: &[(K, V)], key: &K) -> Result<usize, usize> {
        entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// Moves the entries of an array into a tree.
    fn spill(&mut self) {
        if let Store::Sorted(entries) = &mut self.store {
            let tree = std::mem::take(entries).into_iter().collect();
            self.store = Store::Tree(tree);
        }
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Store::Sorted(entries) = &mut self.store {
            match Self::find(entries, &key) {
                Ok(at) => return Some(std::mem::replace(&mut entries[at].1, value)),
                Err(at) if entries.len() < SPILL => {
                    entries.insert(at, (key, value));
                    return None;
                }
                Err(_) => self.spill(),
            }
        }
        match &mut self.store {
            Store::Tree(tree) => tree.insert(key, value),
            Store::Sorted(_) => unreachable!("a full array moved into a tree"),
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        match &self.store {
            Store::Sorted(entries) => Self::find(entries, key).ok().map(|at| &entries[at].1),
            Store::Tree(tree) => tree.get(key),
        }
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match &mut self.store {
            Store::Sorted(entries) => match Self::find(entries, key) {
                Ok(at) => Some(&mut entries[at].1),
                Err(_) => None,
            },
            Store::Tree(tree) => tree.get_mut(key),
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        match &mut self.store {
            Store::Sorted(entries) => Self::find(entries, key).ok().map(|at| entries.remove(at).1),
            Store::Tree(tree) => tree.remove(key),
        }
    }

    /// Removes every entry whose key is in `range`, at a cost in the entries removed
    /// (and a logarithm), not in the entries kept: how a checker forgets a process, or
    /// one copy of a provider in it, when its keys begin with them.
    pub fn remove_range(&mut self, range: impl RangeBounds<K>)
    where
        K: Clone,
    {
        match &mut self.store {
            Store::Sorted(entries) => {
                let (start, end) = span(entries, &range);
                entries.drain(start..end);
            }
            Store::Tree(_) if is_empty_range(&range) => {}
            Store::Tree(tree) => {
                let doomed: Vec<K> = tree.range(range).map(|(k, _)| k.clone()).collect();
                for key in doomed {
                    tree.remove(&key);
                }
            }
        }
    }

    /// The entries whose keys are in `range`, in key order.
    pub fn range(&self, range: impl RangeBounds<K>) -> Iter<'_, K, V> {
        match &self.store {
            Store::Sorted(entries) => {
                let (start, end) = span(entries, &range);
                Iter::Sorted(entries[start..end].iter())
            }
            Store::Tree(_) if is_empty_range(&range) => Iter::Sorted([].iter()),
            Store::Tree(tree) => Iter::Tree(tree.range(range)),
        }
    }

    /// [`Self::range`], with the values to change.
    pub fn range_mut(&mut self, range: impl RangeBounds<K>) -> IterMut<'_, K, V> {
        match &mut self.store {
            Store::Sorted(entries) => {
                let (start, end) = span(entries, &range);
                IterMut::Sorted(entries[start..end].iter_mut())
            }
            Store::Tree(_) if is_empty_range(&range) => IterMut::Sorted([].iter_mut()),
            Store::Tree(tree) => IterMut::Tree(tree.range_mut(range)),
        }
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, N> {
        Entry { map: self, key }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        match &mut self.store {
            Store::Sorted(entries) => entries.retain(|(k, v)| keep(k, v)),
            Store::Tree(tree) => tree.retain(|k, v| keep(k, v)),
        }
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        match &self.store {
            Store::Sorted(entries) => Iter::Sorted(entries.iter()),
            Store::Tree(tree) => Iter::Tree(tree.range(..)),
        }
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        match &mut self.store {
            Store::Sorted(entries) => IterMut::Sorted(entries.iter_mut()),
            Store::Tree(tree) => IterMut::Tree(tree.range_mut(..)),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.into_iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        match &self.store {
            Store::Sorted(entries) => entries.len(),
            Store::Tree(tree) => tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the map, keeping an array's room for the next run that reuses it.
    pub fn clear(&mut self) {
        match &mut self.store {
            Store::Sorted(entries) => entries.clear(),
            Store::Tree(_) => self.store = Store::Sorted(SmallVec::new()),
        }
    }
}

/// The entries of a [`SmallMap`] (or of a range of it) in key order.
pub enum Iter<'m, K, V> {
    Sorted(std::slice::Iter<'m, (K, V)>),
    Tree(btree_map::Range<'m, K, V>),
}

impl<'m, K, V> Iterator for Iter<'m, K, V> {
    type Item = (&'m K, &'m V);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Sorted(entries) => entries.next().map(|(k, v)| (k, v)),
            Iter::Tree(range) => range.next(),
        }
    }
}

/// [`Iter`], with the values to change.
pub enum IterMut<'m, K, V> {
    Sorted(std::slice::IterMut<'m, (K, V)>),
    Tree(btree_map::RangeMut<'m, K, V>),
}

impl<'m, K, V> Iterator for IterMut<'m, K, V> {
    type Item = (&'m K, &'m mut V);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IterMut::Sorted(entries) => entries.next().map(|(k, v)| (&*k, v)),
            IterMut::Tree(range) => range.next(),
        }
    }
}

/// The entries of a [`SmallMap`], taken, in key order.
pub enum IntoIter<K, V, const N: usize> {
    Sorted(smallvec::IntoIter<[(K, V); N]>),
    Tree(btree_map::IntoIter<K, V>),
}

impl<K, V, const N: usize> Iterator for IntoIter<K, V, N> {
    type Item = (K, V);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IntoIter::Sorted(entries) => entries.next(),
            IntoIter::Tree(tree) => tree.next(),
        }
    }
}

impl<K: Ord, V, const N: usize> FromIterator<(K, V)> for SmallMap<K, V, N> {
    /// Later entries of equal keys win, as in `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut map = Self::default();
        for (key, value) in entries {
            map.insert(key, value);
        }
        map
    }
}

impl<K: Ord, V, const N: usize> Index<&K> for SmallMap<K, V, N> {
    type Output = V;
    fn index(&self, key: &K) -> &V {
        self.get(key).expect("no entry for the key")
    }
}

impl<K, V, const N: usize> IntoIterator for SmallMap<K, V, N> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, N>;
    fn into_iter(self) -> Self::IntoIter {
        match self.store {
            Store::Sorted(entries) => IntoIter::Sorted(entries.into_iter()),
            Store::Tree(tree) => IntoIter::Tree(tree.into_iter()),
        }
    }
}

impl<'m, K: Ord, V, const N: usize> IntoIterator for &'m SmallMap<K, V, N> {
    type Item = (&'m K, &'m V);
    type IntoIter = Iter<'m, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A place in a [`SmallMap`], as `BTreeMap::entry` gives.
pub struct Entry<'m, K, V, const N: usize> {
    map: &'m mut SmallMap<K, V, N>,
    key: K,
}

impl<'m, K: Ord, V, const N: usize> Entry<'m, K, V, N> {
    pub fn or_insert(self, value: V) -> &'m mut V {
        let Entry { map, key } = self;
        // Where the key is or goes in the array, unless the entries are (or must move
        // into) a tree.
        let place = match &map.store {
            Store::Sorted(entries) => match SmallMap::<K, V, N>::find(entries, &key) {
                Err(_) if entries.len() >= SPILL => None,
                place => Some(place),
            },
            Store::Tree(_) => None,
        };
        if place.is_none() {
            map.spill();
        }
        match (&mut map.store, place) {
            (Store::Sorted(entries), Some(place)) => {
                let at = place.unwrap_or_else(|at| {
                    entries.insert(at, (key, value));
                    at
                });
                &mut entries[at].1
            }
            (Store::Tree(tree), _) => tree.entry(key).or_insert(value),
            (Store::Sorted(_), None) => unreachable!("a full array moved into a tree"),
        }
    }

    pub fn or_default(self) -> &'m mut V
    where
        V: Default,
    {
        self.or_insert(V::default())
    }
}

/// A [`SmallMap`] without values.
#[derive(Clone, Debug)]
pub struct SmallSet<K>(SmallMap<K, ()>);

impl<K> Default for SmallSet<K> {
    fn default() -> Self {
        Self(SmallMap::default())
    }
}

impl<K: Ord> SmallSet<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the key was new.
    pub fn insert(&mut self, key: K) -> bool {
        self.0.insert(key, ()).is_none()
    }

    /// Whether the key was there.
    pub fn remove(&mut self, key: &K) -> bool {
        self.0.remove(key).is_some()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.0.contains_key(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Removes the keys in `range` (see [`SmallMap::remove_range`]).
    pub fn remove_range(&mut self, range: impl RangeBounds<K>)
    where
        K: Clone,
    {
        self.0.remove_range(range);
    }

    /// Keeps the keys `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.0.retain(|key, _| keep(key));
    }

    /// The keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }

    /// The keys in `range`, in order.
    pub fn range(&self, range: impl RangeBounds<K>) -> impl Iterator<Item = &K> {
        self.0.range(range).map(|(k, ())| k)
    }
}

impl<K> IntoIterator for SmallSet<K> {
    type Item = K;
    type IntoIter = std::iter::Map<IntoIter<K, (), INLINE>, fn((K, ())) -> K>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|(k, ())| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_btree_map() {
        let mut small = SmallMap::new();
        let mut btree = std::collections::BTreeMap::new();
        for (i, key) in [5u32, 1, 9, 1, 3, 7, 5, 2].into_iter().enumerate() {
            assert_eq!(small.insert(key, i), btree.insert(key, i));
            *small.entry(key * 10).or_insert(0) += 1;
            *btree.entry(key * 10).or_insert(0) += 1;
        }
        assert_eq!(small.remove(&9), btree.remove(&9));
        small.retain(|k, _| k % 3 != 0);
        btree.retain(|k, _| k % 3 != 0);
        let small: Vec<_> = small.into_iter().collect();
        let btree: Vec<_> = btree.into_iter().collect();
        assert_eq!(small, btree);
    }

    #[test]
    fn a_set_keeps_keys_once_in_order() {
        let mut set = SmallSet::new();
        assert!(set.insert(3));
        assert!(set.insert(1));
        assert!(!set.insert(3));
        assert!(set.contains(&1));
        assert!(set.remove(&1));
        assert!(!set.remove(&1));
        assert_eq!(set.into_iter().collect::<Vec<_>>(), vec![3]);
    }

    /// Past `SPILL` entries the map is a tree: every operation must still agree with a
    /// `BTreeMap`, through the move and after it, ranges included.
    #[test]
    fn agrees_with_a_btree_map_through_the_move_into_a_tree() {
        let mut small: SmallMap<(u16, u16), u32> = SmallMap::new();
        let mut btree = std::collections::BTreeMap::new();
        // A fixed scramble of keys: 20 processes x 13 providers, in no order.
        let keys = (0..260u32).map(|i| ((i * 7 % 20) as u16, (i * 11 % 13) as u16));
        for (i, key) in keys.enumerate() {
            let value = i as u32;
            assert_eq!(small.insert(key, value), btree.insert(key, value));
            *small.entry((key.1, key.0)).or_insert(0) += 1;
            *btree.entry((key.1, key.0)).or_insert(0) += 1;
            if i % 5 == 0 {
                assert_eq!(small.remove(&(key.0, 3)), btree.remove(&(key.0, 3)));
            }
            assert_eq!(small.len(), btree.len());
        }
        assert!(small.len() > SPILL, "the map moved into a tree");
        let process = |pid: u16| (pid, u16::MIN)..=(pid, u16::MAX);
        let ranged: Vec<_> = small.range(process(4)).map(|(k, v)| (*k, *v)).collect();
        let expected: Vec<_> = btree.range(process(4)).map(|(k, v)| (*k, *v)).collect();
        assert_eq!(ranged, expected);
        for (_, value) in small.range_mut(process(6)) {
            *value += 100;
        }
        for (_, value) in btree.range_mut(process(6)) {
            *value += 100;
        }
        for pid in [0, 4, 19, 25] {
            small.remove_range(process(pid));
            let doomed: Vec<_> = btree.range(process(pid)).map(|(k, _)| *k).collect();
            for key in doomed {
                btree.remove(&key);
            }
        }
        small.retain(|k, _| k.1 % 4 != 1);
        btree.retain(|k, _| k.1 % 4 != 1);
        assert_eq!(small.get(&(6, 2)), btree.get(&(6, 2)));
        let small: Vec<_> = small.into_iter().collect();
        let btree: Vec<_> = btree.into_iter().collect();
        assert_eq!(small, btree);
    }

    #[test]
    fn a_range_removal_takes_exactly_its_keys_in_either_form() {
        for size in [10u32, 200] {
            let mut map: SmallMap<u32, ()> = (0..size).map(|k| (k, ())).collect();
            map.remove_range(3..7);
            map.remove_range(8..=8);
            map.remove_range(9..9);
            map.remove_range((Bound::Excluded(1), Bound::Excluded(2)));
            assert_eq!(map.range(5..=4).count(), 0, "an empty range is no error");
            let left: Vec<u32> = map.keys().copied().collect();
            let expected: Vec<u32> = (0..size)
                .filter(|k| !(3..7).contains(k) && *k != 8)
                .collect();
            assert_eq!(left, expected, "with {size} keys");
            map.remove_range(..);
            assert!(map.is_empty());
        }
    }
}
