//! What the accepted records say, kept up to date as uploads arrive, for the page.
//!
//! Each accepted upload is first tallied on its own, outside any lock ([`tally`]: one pass over
//! its records, small maps); the tally is then merged into bounded running aggregates
//! ([`Traffic`]): totals, a [`Timeline`], and [`TopK`] tables. A request reads those aggregates
//! and never walks the stored records, so the page costs the same with a million records.
//!
//! Records are read by their Site24x7 keys (`srcaddr`, `dstaddr`, `dstport`, `protocol`,
//! `bytes`, `packets`, `action`, `log_status`); values may be strings or numbers; a missing key,
//! `-` or an empty string counts as absent.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use super::timeline::{Bucket, MINUTE_MS, Split, Timeline};
use super::topk::{Ranked, TopK};

/// Most `s247agentuid` values followed one by one; later ones are pooled under
/// [`OTHER_AGENTS`].
pub(crate) const MAX_AGENTS: usize = 32;
/// The pool of agents beyond [`MAX_AGENTS`].
pub(crate) const OTHER_AGENTS: &str = "(other agents)";
/// Keys per top table of all records (Space-Saving capacity: exact while fewer keys arrived).
pub(crate) const TOP_CAPACITY: usize = 10_000;
/// Keys per top table of one agent's records (there may be [`MAX_AGENTS`] + 1 of those).
pub(crate) const AGENT_TOP_CAPACITY: usize = 1_000;

/// One upload's records, tallied by `s247agentuid`.
#[derive(Debug, Default)]
pub(crate) struct Arrival {
    /// The tally of each agent's records in this upload.
    pub per_agent: BTreeMap<String, Tally>,
}

/// The records of one agent in one upload.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    totals: Totals,
    timeline: BTreeMap<u64, Split>,
    /// `"src dst"` → (bytes, packets).
    talkers: HashMap<String, (u64, u64)>,
    rejected_ports: HashMap<String, u64>,
    protocols: HashMap<String, u64>,
}

/// Record counts and sums of one slice of the traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Totals {
    /// Records.
    pub records: u64,
    /// Records by action and by log-status.
    #[serde(flatten)]
    pub split: Split,
    /// Sum of the records' `bytes`.
    pub bytes: u64,
    /// Sum of the records' `packets`.
    pub packets: u64,
    /// Earliest `_zl_timestamp` (epoch ms).
    pub first_ms: Option<u64>,
    /// Latest `_zl_timestamp` (epoch ms).
    pub last_ms: Option<u64>,
    /// Records whose `_zl_timestamp` does not fit in 64 bits (left out of the timeline).
    pub untimed: u64,
}

impl Totals {
    fn add(&mut self, other: &Self) {
        self.records += other.records;
        self.split.add(&other.split);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.packets = self.packets.saturating_add(other.packets);
        self.first_ms = min_some(self.first_ms, other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        self.untimed += other.untimed;
    }
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A field as text: strings as they are, numbers printed; absent when missing, `-` or empty.
fn text<'a>(record: &'a Value, key: &str) -> Option<Cow<'a, str>> {
    match record.get(key)? {
        Value::String(s) if s.is_empty() || s == "-" => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// A field as a count: a non-negative integer, as a number or as digits.
fn count(record: &Value, key: &str) -> Option<u64> {
    match record.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Tallies one accepted upload's records (already validated: objects with `s247agentuid`).
pub(crate) fn tally(records: &[Value]) -> Arrival {
    let mut arrival = Arrival::default();
    for record in records {
        let agent = record
            .get("s247agentuid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let tally = match arrival.per_agent.get_mut(agent) {
            Some(tally) => tally,
            None => arrival.per_agent.entry(agent.to_owned()).or_default(),
        };
        tally.add(record);
    }
    arrival
}

impl Tally {
    fn add(&mut self, record: &Value) {
        let action = text(record, "action");
        let status = text(record, "log_status").or_else(|| text(record, "log-status"));
        let split = Split::one(action.as_deref(), status.as_deref());
        let (bytes, packets) = (count(record, "bytes"), count(record, "packets"));
        let t = &mut self.totals;
        t.records += 1;
        t.split.add(&split);
        t.bytes = t.bytes.saturating_add(bytes.unwrap_or(0));
        t.packets = t.packets.saturating_add(packets.unwrap_or(0));
        match count(record, "_zl_timestamp") {
            Some(ts) => {
                t.first_ms = min_some(t.first_ms, Some(ts));
                t.last_ms = t.last_ms.max(Some(ts));
                let minute = ts - ts % MINUTE_MS;
                self.timeline.entry(minute).or_default().add(&split);
            }
            None => t.untimed += 1,
        }
        if let (Some(src), Some(dst)) = (text(record, "srcaddr"), text(record, "dstaddr")) {
            let pair = self.talkers.entry(format!("{src} {dst}")).or_default();
            pair.0 = pair.0.saturating_add(bytes.unwrap_or(0));
            pair.1 = pair.1.saturating_add(packets.unwrap_or(0));
        }
        if action.as_deref() == Some("REJECT")
            && let Some(port) = text(record, "dstport")
        {
            *self.rejected_ports.entry(port.into_owned()).or_default() += 1;
        }
        if let Some(protocol) = text(record, "protocol") {
            *self.protocols.entry(protocol.into_owned()).or_default() += 1;
        }
    }
}

/// Running aggregates of one slice of the traffic (all records, or one agent's).
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    totals: Totals,
    timeline: Timeline,
    talkers_by_bytes: TopK,
    talkers_by_packets: TopK,
    rejected_ports: TopK,
    protocols: TopK,
}

impl Default for Slice {
    fn default() -> Self {
        Self::with_capacity(TOP_CAPACITY)
    }
}

/// A source → destination pair and its weight (bytes or packets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Talker {
    pub src: String,
    pub dst: String,
    pub value: u64,
    /// Upper bound of the overestimate in `value` (0: exact).
    pub error: u64,
}

/// A destination port refused by `REJECT` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Port {
    pub port: String,
    pub records: u64,
    pub error: u64,
}

/// A protocol number, its name when well known, and its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Protocol {
    pub protocol: String,
    pub name: Option<&'static str>,
    pub records: u64,
    pub error: u64,
}

/// The `n` first rows of each top table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Top {
    /// Whether every figure is exact (no table ever had to drop a key).
    pub exact: bool,
    pub talkers_by_bytes: Vec<Talker>,
    pub talkers_by_packets: Vec<Talker>,
    pub rejected_ports: Vec<Port>,
    pub protocols: Vec<Protocol>,
}

fn talkers(top: &TopK, n: usize) -> Vec<Talker> {
    top.top(n)
        .into_iter()
        .map(|Ranked { key, weight, error }| {
            let (src, dst) = key.split_once(' ').unwrap_or((&key, ""));
            Talker {
                src: src.to_owned(),
                dst: dst.to_owned(),
                value: weight,
                error,
            }
        })
        .collect()
}

/// IANA names of the protocols flow logs commonly carry.
fn protocol_name(number: &str) -> Option<&'static str> {
    Some(match number {
        "1" => "ICMP",
        "2" => "IGMP",
        "6" => "TCP",
        "17" => "UDP",
        "47" => "GRE",
        "50" => "ESP",
        "51" => "AH",
        "58" => "ICMPv6",
        "132" => "SCTP",
        _ => return None,
    })
}

/// Adds an upload's keys heaviest first: in a full table the upload's light keys then replace
/// each other instead of the heavy ones, which keeps the heavy hitters' figures exact longer.
fn add_heaviest_first<'a>(top: &mut TopK, keys: impl Iterator<Item = (&'a String, u64)>) {
    let mut keys: Vec<(&String, u64)> = keys.collect();
    keys.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (key, weight) in keys {
        top.add(key, weight);
    }
}

impl Slice {
    /// An empty slice whose top tables keep `cap` keys each.
    fn with_capacity(cap: usize) -> Self {
        Self {
            totals: Totals::default(),
            timeline: Timeline::default(),
            talkers_by_bytes: TopK::new(cap),
            talkers_by_packets: TopK::new(cap),
            rejected_ports: TopK::new(cap),
            protocols: TopK::new(cap),
        }
    }

    fn add(&mut self, tally: &Tally) {
        self.totals.add(&tally.totals);
        for (minute, split) in &tally.timeline {
            self.timeline.add(*minute, split);
        }
        add_heaviest_first(
            &mut self.talkers_by_bytes,
            tally.talkers.iter().map(|(k, (bytes, _))| (k, *bytes)),
        );
        add_heaviest_first(
            &mut self.talkers_by_packets,
            tally.talkers.iter().map(|(k, (_, packets))| (k, *packets)),
        );
        add_heaviest_first(
            &mut self.rejected_ports,
            tally.rejected_ports.iter().map(|(k, n)| (k, *n)),
        );
        add_heaviest_first(
            &mut self.protocols,
            tally.protocols.iter().map(|(k, n)| (k, *n)),
        );
    }

    /// Counts and sums.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Bucket width (ms) and the dense buckets.
    pub fn timeline(&self) -> (u64, Vec<Bucket>) {
        (self.timeline.width_ms(), self.timeline.dense())
    }

    /// The first `n` rows of each table.
    pub fn top(&self, n: usize) -> Top {
        Top {
            exact: [
                &self.talkers_by_bytes,
                &self.talkers_by_packets,
                &self.rejected_ports,
                &self.protocols,
            ]
            .iter()
            .all(|t| t.is_exact()),
            talkers_by_bytes: talkers(&self.talkers_by_bytes, n),
            talkers_by_packets: talkers(&self.talkers_by_packets, n),
            rejected_ports: self
                .rejected_ports
                .top(n)
                .into_iter()
                .map(|r| Port {
                    port: r.key.to_string(),
                    records: r.weight,
                    error: r.error,
                })
                .collect(),
            protocols: self
                .protocols
                .top(n)
                .into_iter()
                .map(|r| Protocol {
                    name: protocol_name(&r.key),
                    protocol: r.key.to_string(),
                    records: r.weight,
                    error: r.error,
                })
                .collect(),
        }
    }
}

/// Every slice: all records, and each agent's (up to [`MAX_AGENTS`], then pooled).
#[derive(Debug, Clone, Default)]
pub(crate) struct Traffic {
    all: Slice,
    agents: BTreeMap<String, Slice>,
}

impl Traffic {
    /// Merges one upload's tally.
    pub fn add(&mut self, arrival: &Arrival) {
        for (agent, tally) in &arrival.per_agent {
            self.all.add(tally);
            let full = self.agents.len() >= MAX_AGENTS;
            let key = match self.agents.contains_key(agent.as_str()) {
                false if full => OTHER_AGENTS,
                _ => agent.as_str(),
            };
            let slice = match self.agents.get_mut(key) {
                Some(slice) => slice,
                None => self
                    .agents
                    .entry(key.to_owned())
                    .or_insert_with(|| Slice::with_capacity(AGENT_TOP_CAPACITY)),
            };
            slice.add(tally);
        }
    }

    /// All records (`None`) or one agent's; `None` when that agent sent nothing.
    pub fn slice(&self, agent: Option<&str>) -> Option<&Slice> {
        match agent {
            None => Some(&self.all),
            Some(agent) => self.agents.get(agent),
        }
    }

    /// The agents seen, sorted (with [`OTHER_AGENTS`] once the cap was reached).
    pub fn agents(&self) -> impl Iterator<Item = &str> {
        self.agents.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_numbers_dashes_and_missing_keys_are_all_read() {
        let records = [
            json!({"_zl_timestamp": 60_000, "s247agentuid": "a", "srcaddr": "10.0.0.1",
                   "dstaddr": "10.0.0.2", "dstport": "22", "protocol": "6", "bytes": "100",
                   "packets": "2", "action": "REJECT", "log_status": "OK"}),
            json!({"_zl_timestamp": "120000", "s247agentuid": "a", "srcaddr": "10.0.0.1",
                   "dstaddr": "10.0.0.2", "dstport": 22, "protocol": 6, "bytes": 50,
                   "packets": 1, "action": "REJECT", "log_status": "OK"}),
            json!({"_zl_timestamp": 60_001, "s247agentuid": "a", "srcaddr": "-", "dstaddr": "-",
                   "bytes": "-", "action": "-", "log_status": "NODATA"}),
            json!({"_zl_timestamp": "99999999999999999999", "s247agentuid": "b"}),
        ];
        let mut traffic = Traffic::default();
        traffic.add(&tally(&records));
        let all = traffic.slice(None).map(Slice::totals).unwrap_or_default();
        assert_eq!((all.records, all.bytes, all.packets), (4, 150, 3));
        assert_eq!(all.split.action.reject, 2);
        assert_eq!(all.split.action.none, 2);
        assert_eq!(all.split.log_status.nodata, 1);
        assert_eq!(all.split.log_status.none, 1);
        assert_eq!(
            (all.first_ms, all.last_ms, all.untimed),
            (Some(60_000), Some(120_000), 1)
        );
        let top = traffic.slice(Some("a")).map(|s| s.top(5));
        let top = top.unwrap_or_else(|| Slice::default().top(5));
        assert!(top.exact);
        assert_eq!(top.talkers_by_bytes.len(), 1);
        assert_eq!(top.talkers_by_bytes[0].value, 150);
        assert_eq!(
            top.rejected_ports[0].records, 2,
            "\"22\" and 22 are one port"
        );
        assert_eq!(top.protocols[0].name, Some("TCP"));
        assert_eq!(traffic.agents().collect::<Vec<_>>(), ["a", "b"]);
        assert!(traffic.slice(Some("nobody")).is_none());
    }

    #[test]
    fn agents_beyond_the_cap_are_pooled() {
        let records: Vec<Value> = (0..=MAX_AGENTS)
            .map(|i| json!({"_zl_timestamp": 1, "s247agentuid": format!("agent-{i:02}")}))
            .collect();
        let mut traffic = Traffic::default();
        for record in &records {
            traffic.add(&tally(std::slice::from_ref(record)));
        }
        let agents: Vec<&str> = traffic.agents().collect();
        assert_eq!(agents.len(), MAX_AGENTS + 1);
        assert!(agents.contains(&OTHER_AGENTS));
        let pooled = traffic.slice(Some(OTHER_AGENTS)).map(Slice::totals);
        assert_eq!(pooled.map(|t| t.records), Some(1));
    }
}
