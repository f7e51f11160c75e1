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
/// Keys per top table of all records (exact until twice as many arrived; see `topk`).
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

/// A value as text: strings as they are, numbers printed; absent when `-` or empty.
fn text(value: Option<&Value>) -> Option<Cow<'_, str>> {
    match value? {
        Value::String(s) if s.is_empty() || s == "-" => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// A value as a count: a non-negative integer, as a number or as digits.
fn count(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Adds `n` to `key`, allocating the key only the first time it is seen.
fn bump(map: &mut HashMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

/// The fields the page reads, found in one pass over a record's keys.
#[derive(Debug, Default)]
struct Fields<'a> {
    action: Option<&'a Value>,
    log_status: Option<&'a Value>,
    srcaddr: Option<&'a Value>,
    dstaddr: Option<&'a Value>,
    dstport: Option<&'a Value>,
    protocol: Option<&'a Value>,
    bytes: Option<&'a Value>,
    packets: Option<&'a Value>,
    timestamp: Option<&'a Value>,
    agent: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn of(record: &'a Value) -> Self {
        let mut f = Self::default();
        for (key, value) in record.as_object().into_iter().flatten() {
            match key.as_str() {
                "action" => f.action = Some(value),
                "log_status" | "log-status" => f.log_status = Some(value),
                "srcaddr" => f.srcaddr = Some(value),
                "dstaddr" => f.dstaddr = Some(value),
                "dstport" => f.dstport = Some(value),
                "protocol" => f.protocol = Some(value),
                "bytes" => f.bytes = Some(value),
                "packets" => f.packets = Some(value),
                "_zl_timestamp" => f.timestamp = Some(value),
                "s247agentuid" => f.agent = value.as_str(),
                _ => {}
            }
        }
        f
    }
}

/// Tallies one accepted upload's records (already validated: objects with `s247agentuid`).
pub(crate) fn tally(records: &[Value]) -> Arrival {
    let mut arrival = Arrival::default();
    let mut pair = String::new();
    for record in records {
        let fields = Fields::of(record);
        let agent = fields.agent.unwrap_or_default();
        let tally = match arrival.per_agent.get_mut(agent) {
            Some(tally) => tally,
            None => arrival.per_agent.entry(agent.to_owned()).or_default(),
        };
        tally.add(&fields, &mut pair);
    }
    arrival
}

impl Tally {
    /// Counts one record; `pair` is a reused buffer for the talker key.
    fn add(&mut self, f: &Fields<'_>, pair: &mut String) {
        let action = text(f.action);
        let status = text(f.log_status);
        let split = Split::one(action.as_deref(), status.as_deref());
        let (bytes, packets) = (count(f.bytes).unwrap_or(0), count(f.packets).unwrap_or(0));
        let t = &mut self.totals;
        t.records += 1;
        t.split.add(&split);
        t.bytes = t.bytes.saturating_add(bytes);
        t.packets = t.packets.saturating_add(packets);
        match count(f.timestamp) {
            Some(ts) => {
                t.first_ms = min_some(t.first_ms, Some(ts));
                t.last_ms = t.last_ms.max(Some(ts));
                let minute = ts - ts % MINUTE_MS;
                self.timeline.entry(minute).or_default().add(&split);
            }
            None => t.untimed += 1,
        }
        if let (Some(src), Some(dst)) = (text(f.srcaddr), text(f.dstaddr)) {
            pair.clear();
            pair.push_str(&src);
            pair.push(' ');
            pair.push_str(&dst);
            let sums = match self.talkers.get_mut(pair.as_str()) {
                Some(sums) => sums,
                None => self.talkers.entry(pair.clone()).or_default(),
            };
            sums.0 = sums.0.saturating_add(bytes);
            sums.1 = sums.1.saturating_add(packets);
        }
        if action.as_deref() == Some("REJECT")
            && let Some(port) = text(f.dstport)
        {
            bump(&mut self.rejected_ports, &port, 1);
        }
        if let Some(protocol) = text(f.protocol) {
            bump(&mut self.protocols, &protocol, 1);
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
        for (pair, (bytes, packets)) in &tally.talkers {
            self.talkers_by_bytes.add(pair, *bytes);
            self.talkers_by_packets.add(pair, *packets);
        }
        for (port, n) in &tally.rejected_ports {
            self.rejected_ports.add(port, *n);
        }
        for (protocol, n) in &tally.protocols {
            self.protocols.add(protocol, *n);
        }
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
///
/// While a single agent has sent records, its slice *is* the slice of all records: it is
/// split off (a copy of all records so far) only when a second agent appears, so the common
/// single-bucket case pays for one set of aggregates, not two.
#[derive(Debug, Clone, Default)]
pub(crate) struct Traffic {
    all: Slice,
    /// The only agent so far, whose slice is `all` (while `agents` is empty).
    sole: Option<String>,
    agents: BTreeMap<String, Slice>,
}

impl Traffic {
    /// Merges one upload's tally.
    pub fn add(&mut self, arrival: &Arrival) {
        for (agent, tally) in &arrival.per_agent {
            match &self.sole {
                None if self.agents.is_empty() => self.sole = Some(agent.clone()),
                Some(sole) if sole == agent => {}
                Some(_) => {
                    if let Some(sole) = self.sole.take() {
                        self.agents.insert(sole, self.all.clone());
                    }
                    self.agent_slice(agent).add(tally);
                }
                None => self.agent_slice(agent).add(tally),
            }
            self.all.add(tally);
        }
    }

    /// The slice of `agent`, created (or the pool, once [`MAX_AGENTS`] are followed).
    fn agent_slice(&mut self, agent: &str) -> &mut Slice {
        let key = if self.agents.contains_key(agent) || self.agents.len() < MAX_AGENTS {
            agent
        } else {
            OTHER_AGENTS
        };
        self.agents
            .entry(key.to_owned())
            .or_insert_with(|| Slice::with_capacity(AGENT_TOP_CAPACITY))
    }

    /// All records (`None`) or one agent's; `None` when that agent sent nothing.
    pub fn slice(&self, agent: Option<&str>) -> Option<&Slice> {
        match (agent, &self.sole) {
            (None, _) => Some(&self.all),
            (Some(agent), Some(sole)) if agent == sole => Some(&self.all),
            (Some(agent), _) => self.agents.get(agent),
        }
    }

    /// The agents seen, sorted (with [`OTHER_AGENTS`] once the cap was reached).
    pub fn agents(&self) -> impl Iterator<Item = &str> {
        self.sole
            .iter()
            .chain(self.agents.keys())
            .map(String::as_str)
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
    fn a_second_agent_splits_the_first_off_with_its_records_so_far() {
        let one = |agent: &str, port: &str| json!({"_zl_timestamp": 1, "s247agentuid": agent, "action": "REJECT", "dstport": port});
        let mut traffic = Traffic::default();
        traffic.add(&tally(&[one("a", "22"), one("a", "22")]));
        let records = |t: &Traffic, agent: Option<&str>| t.slice(agent).map(|s| s.totals().records);
        assert_eq!(records(&traffic, Some("a")), Some(2));
        traffic.add(&tally(&[one("b", "80"), one("a", "443")]));
        assert_eq!(
            (
                records(&traffic, None),
                records(&traffic, Some("a")),
                records(&traffic, Some("b"))
            ),
            (Some(4), Some(3), Some(1))
        );
        let ports = |agent| {
            let top = traffic.slice(Some(agent)).map(|s| s.top(5).rejected_ports);
            top.unwrap_or_default()
                .into_iter()
                .map(|p| (p.port, p.records))
                .collect::<Vec<_>>()
        };
        assert_eq!(ports("a"), [("22".to_owned(), 2), ("443".to_owned(), 1)]);
        assert_eq!(ports("b"), [("80".to_owned(), 1)]);
        assert_eq!(traffic.agents().collect::<Vec<_>>(), ["a", "b"]);
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
