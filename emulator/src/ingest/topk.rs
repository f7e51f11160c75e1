//! The heaviest keys of a stream in bounded memory, for the page's "top" tables.
//!
//! Exact counters until a table holds twice its capacity; it is then pruned back to its
//! capacity, keeping the heaviest keys, and `floor` remembers the heaviest weight dropped. A key
//! arriving afterwards starts at `floor` (it may have been dropped with up to that much) and
//! carries `floor` as its possible overestimate (`error`). So a reported weight is never below
//! the true one nor more than `error` above it, and while nothing was dropped every weight is
//! exact. Each add is one hash lookup; a prune costs O(capacity) once per capacity adds.

use std::collections::HashMap;
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
    /// The heaviest weight ever dropped by a prune (0: nothing dropped, all exact).
    floor: u64,
}

/// Heaviest first; equal weights by key, ascending.
fn heaviest_first(a: &(&Arc<str>, Slot), b: &(&Arc<str>, Slot)) -> std::cmp::Ordering {
    b.1.weight.cmp(&a.1.weight).then_with(|| a.0.cmp(b.0))
}

impl TopK {
    /// Counters keeping at least the `cap` heaviest keys (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            slots: HashMap::new(),
            floor: 0,
        }
    }

    /// Adds `weight` to `key`; a zero weight changes nothing.
    pub fn add(&mut self, key: &str, weight: u64) {
        if weight == 0 {
            return;
        }
        if let Some(slot) = self.slots.get_mut(key) {
            slot.weight = slot.weight.saturating_add(weight);
            return;
        }
        if self.slots.len() >= 2 * self.cap {
            self.prune();
        }
        let slot = Slot {
            weight: self.floor.saturating_add(weight),
            error: self.floor,
        };
        self.slots.insert(Arc::from(key), slot);
    }

    /// Keeps the `cap` heaviest keys and raises `floor` to the heaviest one dropped.
    fn prune(&mut self) {
        let mut ranked: Vec<(&Arc<str>, Slot)> = self.slots.iter().map(|(k, s)| (k, *s)).collect();
        if ranked.len() <= self.cap {
            return;
        }
        ranked.select_nth_unstable_by(self.cap, heaviest_first);
        let dropped: Vec<Arc<str>> = ranked[self.cap..]
            .iter()
            .map(|(k, _)| Arc::clone(k))
            .collect();
        let heaviest_dropped = ranked[self.cap..].iter().map(|(_, s)| s.weight).max();
        self.floor = self.floor.max(heaviest_dropped.unwrap_or(0));
        for key in dropped {
            self.slots.remove(&key);
        }
    }

    /// Whether every weight is exact (nothing was ever dropped).
    pub fn is_exact(&self) -> bool {
        self.floor == 0
    }

    /// The `n` heaviest keys, heaviest first; equal weights by key, ascending.
    pub fn top(&self, n: usize) -> Vec<Ranked> {
        let mut ranked: Vec<(&Arc<str>, Slot)> = self.slots.iter().map(|(k, s)| (k, *s)).collect();
        if n < ranked.len() {
            ranked.select_nth_unstable_by(n, heaviest_first);
            ranked.truncate(n);
        }
        ranked.sort_unstable_by(heaviest_first);
        ranked
            .into_iter()
            .map(|(key, slot)| Ranked {
                key: Arc::clone(key),
                weight: slot.weight,
                error: slot.error,
            })
            .collect()
    }

    /// Keys held now (at most twice the cap).
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
        assert!(top.top(0).is_empty());
        let mut tied = TopK::new(10);
        for key in ["z", "x", "y", "w"] {
            tied.add(key, if key == "w" { 1 } else { 5 });
        }
        assert_eq!(
            keys(&tied.top(2)),
            [("x", 5, 0), ("y", 5, 0)],
            "ties at the cut"
        );
    }

    #[test]
    fn a_full_table_drops_the_lightest_and_keeps_the_heavy_hitters() {
        let mut top = TopK::new(3);
        // One heavy key among many light ones: it must survive with its exact weight.
        let mut truth = std::collections::HashMap::new();
        for i in 0..1000_u64 {
            top.add("heavy", 10);
            let light = format!("light-{}", i % 400);
            top.add(&light, 1 + i % 3);
            *truth.entry(light).or_insert(0) += 1 + i % 3;
        }
        assert!(top.len() <= 6, "{}", top.len());
        assert!(!top.is_exact());
        let first = &top.top(1)[0];
        assert_eq!(
            (&*first.key, first.weight, first.error),
            ("heavy", 10_000, 0)
        );
        // Every other figure brackets the truth: weight - error <= true <= weight.
        let others = top.top(6);
        assert!(others.len() > 1);
        for r in others.iter().skip(1) {
            let t = truth[&*r.key];
            assert!(r.weight >= t && r.weight - r.error <= t, "{r:?} true {t}");
        }
    }
}
