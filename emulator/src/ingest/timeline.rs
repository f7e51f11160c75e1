//! Records over time (on their own `_zl_timestamp`) by action and log-status, in a bounded
//! number of buckets: when the records span more than [`MAX_BUCKETS`] buckets, the buckets
//! widen (1 min, 5 min, 15 min, 30 min, 1 h, 3 h, 6 h, 12 h, 1 day, then doubling), each width a
//! multiple of the last so buckets merge without splitting.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most buckets a timeline spans (from its first to its last record).
pub(crate) const MAX_BUCKETS: u64 = 360;
/// The narrowest bucket: flow logs aggregate over 1 or 10 minutes.
pub(crate) const MINUTE_MS: u64 = 60_000;
const LADDER_MS: [u64; 9] = [
    MINUTE_MS,
    5 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    60 * MINUTE_MS,
    180 * MINUTE_MS,
    360 * MINUTE_MS,
    720 * MINUTE_MS,
    1440 * MINUTE_MS,
];

/// Records by `action`: `ACCEPT`, `REJECT`, and `-` (NODATA/SKIPDATA records, missing or other).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ByAction {
    #[serde(rename = "ACCEPT")]
    pub accept: u64,
    #[serde(rename = "REJECT")]
    pub reject: u64,
    #[serde(rename = "-")]
    pub none: u64,
}

/// Records by `log_status`: `OK`, `NODATA`, `SKIPDATA`, and `-` (missing or other).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ByLogStatus {
    #[serde(rename = "OK")]
    pub ok: u64,
    #[serde(rename = "NODATA")]
    pub nodata: u64,
    #[serde(rename = "SKIPDATA")]
    pub skipdata: u64,
    #[serde(rename = "-")]
    pub none: u64,
}

/// Records counted both ways.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Split {
    pub action: ByAction,
    pub log_status: ByLogStatus,
}

impl Split {
    /// One record with these `action` and `log_status` values (`None`: missing).
    pub fn one(action: Option<&str>, log_status: Option<&str>) -> Self {
        let mut split = Self::default();
        match action {
            Some("ACCEPT") => split.action.accept = 1,
            Some("REJECT") => split.action.reject = 1,
            _ => split.action.none = 1,
        }
        match log_status {
            Some("OK") => split.log_status.ok = 1,
            Some("NODATA") => split.log_status.nodata = 1,
            Some("SKIPDATA") => split.log_status.skipdata = 1,
            _ => split.log_status.none = 1,
        }
        split
    }

    /// Adds another count.
    pub fn add(&mut self, other: &Self) {
        let (a, b) = (&mut self.action, &other.action);
        a.accept += b.accept;
        a.reject += b.reject;
        a.none += b.none;
        let (s, t) = (&mut self.log_status, &other.log_status);
        s.ok += t.ok;
        s.nodata += t.nodata;
        s.skipdata += t.skipdata;
        s.none += t.none;
    }
}

/// One bucket of the dense series the page draws.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Bucket {
    /// Start of the bucket, epoch milliseconds (UTC).
    pub start_ms: u64,
    /// Records whose `_zl_timestamp` falls in the bucket.
    #[serde(flatten)]
    pub split: Split,
}

/// Buckets of [`Split`] counts keyed by their start (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    width_ms: u64,
    buckets: BTreeMap<u64, Split>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            width_ms: MINUTE_MS,
            buckets: BTreeMap::new(),
        }
    }
}

impl Timeline {
    /// The current bucket width in milliseconds.
    pub fn width_ms(&self) -> u64 {
        self.width_ms
    }

    /// Counts `split` at time `ts_ms`, widening the buckets when the span grows too long.
    pub fn add(&mut self, ts_ms: u64, split: &Split) {
        let start = ts_ms - ts_ms % self.width_ms;
        self.buckets.entry(start).or_default().add(split);
        while self.span() > MAX_BUCKETS {
            self.widen();
        }
    }

    /// Buckets from the first record's to the last's, empty ones included (at most
    /// [`MAX_BUCKETS`]).
    pub fn dense(&self) -> Vec<Bucket> {
        let (Some((&first, _)), Some((&last, _))) = (
            self.buckets.first_key_value(),
            self.buckets.last_key_value(),
        ) else {
            return Vec::new();
        };
        (0..=(last - first) / self.width_ms)
            .map(|i| {
                let start_ms = first + i * self.width_ms;
                let split = self.buckets.get(&start_ms).copied().unwrap_or_default();
                Bucket { start_ms, split }
            })
            .collect()
    }

    fn span(&self) -> u64 {
        match (
            self.buckets.first_key_value(),
            self.buckets.last_key_value(),
        ) {
            (Some((first, _)), Some((last, _))) => (last - first) / self.width_ms + 1,
            _ => 0,
        }
    }

    fn widen(&mut self) {
        let next = LADDER_MS
            .iter()
            .copied()
            .find(|&w| w > self.width_ms)
            .unwrap_or(self.width_ms.saturating_mul(2));
        self.width_ms = next;
        let old = std::mem::take(&mut self.buckets);
        for (start, split) in old {
            self.buckets
                .entry(start - start % next)
                .or_default()
                .add(&split);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_land_in_minute_buckets_and_gaps_are_filled() {
        let mut t = Timeline::default();
        let accept = Split::one(Some("ACCEPT"), Some("OK"));
        let nodata = Split::one(Some("-"), Some("NODATA"));
        t.add(120_000, &accept);
        t.add(179_999, &accept);
        t.add(300_001, &nodata);
        let dense = t.dense();
        let starts: Vec<u64> = dense.iter().map(|b| b.start_ms).collect();
        assert_eq!(starts, [120_000, 180_000, 240_000, 300_000]);
        assert_eq!(dense[0].split.action.accept, 2);
        assert_eq!(dense[1].split, Split::default());
        assert_eq!(dense[3].split.log_status.nodata, 1);
    }

    #[test]
    fn a_long_span_widens_the_buckets_and_keeps_every_record() {
        let one = Split::one(Some("REJECT"), Some("OK"));
        // (span in ms, expected width): each step of the ladder, then doubling.
        let cases = [
            (359 * MINUTE_MS, MINUTE_MS),
            (360 * MINUTE_MS, 5 * MINUTE_MS),
            (3 * 24 * 60 * MINUTE_MS, 15 * MINUTE_MS),
            (400 * 24 * 60 * MINUTE_MS, 2 * 1440 * MINUTE_MS),
            (1_700_000_000_000, 64 * 1440 * MINUTE_MS),
        ];
        for (span, width) in cases {
            let mut t = Timeline::default();
            t.add(0, &one);
            t.add(span, &one);
            assert_eq!(t.width_ms(), width, "span {span}");
            let dense = t.dense();
            assert!(dense.len() as u64 <= MAX_BUCKETS, "span {span}");
            let total: u64 = dense.iter().map(|b| b.split.action.reject).sum();
            assert_eq!(total, 2, "span {span}");
        }
    }
}
