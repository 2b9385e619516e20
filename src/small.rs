//! Small ordered maps and sets for the world and the checkers. A run has a handful of
//! processes, providers, calls and resources, so a sorted array kept inline (spilling to
//! the heap past `N` entries) does with no allocation and a few comparisons what a
//! `BTreeMap` does with nodes to build, search and drop; `explore` makes and checks
//! every run of a sweep with them. Iteration is in key order, as with `BTreeMap`, so no
//! trace and no checker's output depends on which one is used.

use std::ops::Index;

use smallvec::SmallVec;

/// Entries kept inline before a map spills to the heap.
pub const INLINE: usize = 4;

#[derive(Clone, Debug)]
pub struct SmallMap<K, V, const N: usize = INLINE> {
    entries: SmallVec<[(K, V); N]>,
}

impl<K, V, const N: usize> Default for SmallMap<K, V, N> {
    fn default() -> Self {
        Self {
            entries: SmallVec::new(),
        }
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K: Ord, V, const N: usize> SmallMap<K, V, N> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|at| &mut self.entries[at].1)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, N> {
        Entry { map: self, key }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
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
    type IntoIter = smallvec::IntoIter<[(K, V); N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'m, K, V, const N: usize> IntoIterator for &'m SmallMap<K, V, N> {
    type Item = (&'m K, &'m V);
    type IntoIter = std::iter::Map<std::slice::Iter<'m, (K, V)>, fn(&'m (K, V)) -> (&'m K, &'m V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// A place in a [`SmallMap`], as `BTreeMap::entry` gives.
pub struct Entry<'m, K, V, const N: usize> {
    map: &'m mut SmallMap<K, V, N>,
    key: K,
}

impl<'m, K: Ord, V, const N: usize> Entry<'m, K, V, N> {
    pub fn or_insert(self, value: V) -> &'m mut V {
        let at = match self.map.find(&self.key) {
            Ok(at) => at,
            Err(at) => {
                self.map.entries.insert(at, (self.key, value));
                at
            }
        };
        &mut self.map.entries[at].1
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

    /// Keeps the keys `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.0.retain(|key, _| keep(key));
    }

    /// The keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }
}

impl<K> IntoIterator for SmallSet<K> {
    type Item = K;
    type IntoIter = std::iter::Map<smallvec::IntoIter<[(K, ()); INLINE]>, fn((K, ())) -> K>;
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
}
