//! The heaviest keys of a stream in bounded memory, for the page's "top" tables.
//!
//! Space-Saving (Metwally, Agrawal, El Abbadi, 2005): at most `cap` counters; a new key arriving
//! when all are taken replaces the lightest one and inherits its weight as a possible
//! overestimate (`error`). Every key whose true weight exceeds `total / cap` is always present,
//! and a reported weight is never below the true one nor more than `error` above it. While no
//! key was ever replaced, every weight is exact.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One ranked key: its weight and how much of it may be an overestimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ranked {
    /// The key as added.
    pub key: Arc<str>,
    /// Reported weight (exact when `error` is 0).
    pub weight: u64,
    /// Upper bound of the overestimate in `weight`.
    pub error: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    weight: u64,
    error: u64,
}

/// Bounded weighted counters (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct TopK {
    cap: usize,
    slots: HashMap<Arc<str>, Slot>,
    /// The same slots ordered by (weight, key): the first is the one to replace.
    order: BTreeSet<(u64, Arc<str>)>,
    replaced: bool,
}

impl TopK {
    /// Counters for at most `cap` keys (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            slots: HashMap::new(),
            order: BTreeSet::new(),
            replaced: false,
        }
    }

    /// Adds `weight` to `key`; a zero weight changes nothing.
    pub fn add(&mut self, key: &str, weight: u64) {
        if weight == 0 {
            return;
        }
        if let Some((key, slot)) = self.slots.get_key_value(key) {
            let (key, slot) = (key.clone(), *slot);
            self.set(key, slot, weight);
            return;
        }
        let key: Arc<str> = Arc::from(key);
        if self.slots.len() < self.cap {
            self.set(key, Slot::default(), weight);
            return;
        }
        let Some((floor, lightest)) = self.order.pop_first() else {
            return;
        };
        self.slots.remove(&lightest);
        self.replaced = true;
        self.set(
            key,
            Slot {
                weight: floor,
                error: floor,
            },
            weight,
        );
    }

    fn set(&mut self, key: Arc<str>, old: Slot, add: u64) {
        self.order.remove(&(old.weight, key.clone()));
        let slot = Slot {
            weight: old.weight.saturating_add(add),
            error: old.error,
        };
        self.order.insert((slot.weight, key.clone()));
        self.slots.insert(key, slot);
    }

    /// Whether every weight is exact (no key was ever replaced).
    pub fn is_exact(&self) -> bool {
        !self.replaced
    }

    /// The `n` heaviest keys, heaviest first; equal weights by key, ascending.
    pub fn top(&self, n: usize) -> Vec<Ranked> {
        let mut all: Vec<Ranked> = self
            .slots
            .iter()
            .map(|(key, slot)| Ranked {
                key: key.clone(),
                weight: slot.weight,
                error: slot.error,
            })
            .collect();
        all.sort_unstable_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.key.cmp(&b.key)));
        all.truncate(n);
        all
    }

    /// Keys held now (at most the cap).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(top: &[Ranked]) -> Vec<(&str, u64, u64)> {
        top.iter().map(|r| (&*r.key, r.weight, r.error)).collect()
    }

    #[test]
    fn below_the_cap_weights_are_exact_and_ties_sort_by_key() {
        let mut top = TopK::new(10);
        for (key, w) in [("b", 5), ("a", 5), ("c", 7), ("b", 1), ("z", 0)] {
            top.add(key, w);
        }
        assert!(top.is_exact());
        assert_eq!(keys(&top.top(10)), [("c", 7, 0), ("b", 6, 0), ("a", 5, 0)]);
        assert_eq!(keys(&top.top(1)), [("c", 7, 0)]);
    }

    #[test]
    fn a_full_table_replaces_the_lightest_and_keeps_the_heavy_hitters() {
        let mut top = TopK::new(3);
        // One heavy key among many light ones: it must survive with its exact weight.
        for i in 0..1000 {
            top.add("heavy", 10);
            top.add(&format!("light-{i}"), 1);
        }
        assert_eq!(top.len(), 3);
        assert!(!top.is_exact());
        let first = &top.top(1)[0];
        assert_eq!(
            (&*first.key, first.weight, first.error),
            ("heavy", 10_000, 0)
        );
        // A replaced key reports its inherited floor as the possible overestimate.
        for r in top.top(3).iter().skip(1) {
            assert!(r.error > 0 && r.weight > r.error, "{r:?}");
        }
    }
}
