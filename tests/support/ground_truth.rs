//! Ground truth: what the generator produced, compared record by record with what the mock
//! Site24x7 received.
//!
//! A received record is turned back into its flow-log line: its keys (minus the forwarder's own
//! additions such as `_zl_timestamp` and `s247agentuid`) identify the object's format among the
//! formats generated (so every scenario uses formats whose field sets differ), the values are
//! joined by single spaces in the header's order, and the line's digest is the generator's
//! [`line_digest`]. The expected side is the multiset of the generated lines' digests, so
//! missing, extra and duplicated records are all told apart; the manifest's counts (by action
//! and log-status) and additive records digest are checked too.
//!
//! Objects are read back as text whatever their file format ([`object_text`]: a Parquet object
//! gives its header and one line per row, nulls as `-`), so Parquet and transit-gateway objects
//! take part like gzip text. Transit-gateway records have no `action`: the manifest and the
//! received tally both count them under `-`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read as _;

use anyhow::{Context as _, bail, ensure};
use flate2::read::MultiGzDecoder;
use flowlog_emulator::generator::{
    ByAction, ByLogStatus, FlowLogObject, Generated, RecordsDigest, line_digest, object_text,
};
use serde_json::Value;

/// Keys the forwarder adds to every record, which are not flow-log fields.
pub const ADDED_KEYS: &[&str] = &["_zl_timestamp", "s247agentuid"];

/// One generated format: its header fields, and the record keys they become.
#[derive(Debug, Clone)]
struct Format {
    /// Header names (`account-id`), in order.
    header: Vec<String>,
    /// Record keys (`account_id`), sorted, to identify a record's format.
    sorted_keys: Vec<String>,
}

/// Counts of a set of records, as the manifest keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records.
    pub records: u64,
    /// By `action`.
    pub by_action: ByAction,
    /// By `log-status`.
    pub by_log_status: ByLogStatus,
    /// Sum of line digests.
    pub digest: RecordsDigest,
}

impl Tally {
    fn add(&mut self, action: &str, status: &str, digest: u64) {
        self.records += 1;
        match action {
            "ACCEPT" => self.by_action.accept += 1,
            "REJECT" => self.by_action.reject += 1,
            _ => self.by_action.none += 1,
        }
        match status {
            "OK" => self.by_log_status.ok += 1,
            "NODATA" => self.by_log_status.nodata += 1,
            _ => self.by_log_status.skipdata += 1,
        }
        self.digest.add(digest);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, s) = (self.by_action, self.by_log_status);
        write!(
            f,
            "records={} ACCEPT={} REJECT={} -={} OK={} NODATA={} SKIPDATA={} digest={}",
            self.records,
            a.accept,
            a.reject,
            a.none,
            s.ok,
            s.nodata,
            s.skipdata,
            self.digest.to_hex()
        )
    }
}

/// Everything generated in one scenario: formats, line digests, and the manifests' totals.
#[derive(Debug, Default)]
pub struct GroundTruth {
    formats: Vec<Format>,
    /// Line digest → (format index, how many times generated).
    lines: HashMap<u64, (usize, u64)>,
    /// Sum of the manifests' totals.
    manifest: Tally,
    /// Objects generated.
    objects: usize,
}

impl GroundTruth {
    /// An empty ground truth; add runs with [`GroundTruth::add_run`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a generation run: its objects' lines and its manifest's totals.
    ///
    /// # Errors
    /// When a body does not read back (gzip or Parquet) or its header is missing, or when a
    /// manifest entry disagrees with its own object (the generator's bug, not the forwarder's).
    pub fn add_run(&mut self, run: &Generated) -> anyhow::Result<()> {
        for object in &run.objects {
            self.add_object(object)?;
        }
        let t = &run.manifest.totals;
        self.manifest.records += t.records;
        add_counts(&mut self.manifest, t.by_action, t.by_log_status);
        self.manifest
            .digest
            .merge(RecordsDigest::from_hex(&t.records_digest).context("manifest records_digest")?);
        Ok(())
    }

    fn add_object(&mut self, object: &FlowLogObject) -> anyhow::Result<()> {
        let text = object_text(&object.body)
            .with_context(|| format!("s3://{}/{}", object.bucket, object.key))?;
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .context("object without header")?
            .split(' ')
            .map(str::to_owned)
            .collect();
        ensure!(
            header == object.summary.fields,
            "header of {} differs from its manifest entry",
            object.key
        );
        let format = self.format_index(header)?;
        let mut digest = RecordsDigest::new();
        for line in lines {
            let d = line_digest(&line.split(' ').collect::<Vec<_>>());
            digest.add(d);
            self.lines.entry(d).or_insert((format, 0)).1 += 1;
        }
        ensure!(
            digest.to_hex() == object.summary.records_digest,
            "digest of {} differs from its manifest entry",
            object.key
        );
        self.objects += 1;
        Ok(())
    }

    fn format_index(&mut self, header: Vec<String>) -> anyhow::Result<usize> {
        if let Some(i) = self.formats.iter().position(|f| f.header == header) {
            return Ok(i);
        }
        let sorted_keys = sorted_keys(header.iter().map(String::as_str));
        if self.formats.iter().any(|f| f.sorted_keys == sorted_keys) {
            bail!("two formats with the same fields in another order cannot be told apart");
        }
        self.formats.push(Format {
            header,
            sorted_keys,
        });
        Ok(self.formats.len() - 1)
    }

    /// Records generated (the manifests' total).
    #[must_use]
    pub fn records(&self) -> u64 {
        self.manifest.records
    }

    /// Objects generated.
    #[must_use]
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// The manifests' totals.
    #[must_use]
    pub fn totals(&self) -> Tally {
        self.manifest
    }

    /// Compares what the mock received with this ground truth.
    #[must_use]
    pub fn compare(&self, received: &[Value]) -> Comparison {
        let mut cmp = Comparison {
            expected: self.manifest,
            formats: self.formats.iter().map(|f| f.header.join(" ")).collect(),
            ..Comparison::default()
        };
        let mut seen: HashMap<u64, u64> = HashMap::new();
        for record in received {
            let Some((format, line)) = self.rebuild(record) else {
                cmp.unidentified += 1;
                if cmp.first_unidentified.len() < 3 {
                    cmp.first_unidentified.push(record.to_string());
                }
                continue;
            };
            let tokens: Vec<&str> = line.iter().map(String::as_str).collect();
            let d = line_digest(&tokens);
            let field = |name: &str| {
                record
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            cmp.received.add(&field("action"), &field("log_status"), d);
            *seen.entry(d).or_default() += 1;
            if !self.lines.contains_key(&d) {
                *cmp.extra.entry(format).or_default() += 1;
            }
        }
        for (d, (format, generated)) in &self.lines {
            let got = seen.get(d).copied().unwrap_or(0);
            if got < *generated {
                *cmp.missing.entry(*format).or_default() += generated - got;
            } else if got > *generated {
                *cmp.duplicates.entry(*format).or_default() += got - generated;
            }
        }
        cmp
    }

    /// The record's format and its line's tokens, or `None` when no format fits its keys.
    fn rebuild(&self, record: &Value) -> Option<(usize, Vec<String>)> {
        let object = record.as_object()?;
        let keys = sorted_keys_of_record(object.keys().map(String::as_str));
        let format = self.formats.iter().position(|f| f.sorted_keys == keys)?;
        let tokens = self.formats[format]
            .header
            .iter()
            .map(|name| {
                object
                    .get(&name.replace('-', "_"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect::<Option<Vec<_>>>()?;
        Some((format, tokens))
    }
}

fn add_counts(t: &mut Tally, a: ByAction, s: ByLogStatus) {
    t.by_action.accept += a.accept;
    t.by_action.reject += a.reject;
    t.by_action.none += a.none;
    t.by_log_status.ok += s.ok;
    t.by_log_status.nodata += s.nodata;
    t.by_log_status.skipdata += s.skipdata;
}

fn sorted_keys<'a>(header: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = header.map(|n| n.replace('-', "_")).collect();
    keys.sort();
    keys
}

fn sorted_keys_of_record<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = keys
        .filter(|k| !ADDED_KEYS.contains(k))
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

/// The text of a gzip body (multi-member too).
///
/// # Errors
/// When the bytes are not gzip or not UTF-8.
pub fn gunzip(body: &[u8]) -> anyhow::Result<String> {
    let mut text = String::new();
    MultiGzDecoder::new(body)
        .read_to_string(&mut text)
        .context("gunzip")?;
    Ok(text)
}

/// What was received against what was generated.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    /// The manifests' totals.
    pub expected: Tally,
    /// What the received records add up to (unidentified records excluded).
    pub received: Tally,
    /// Header of each format, by index.
    pub formats: Vec<String>,
    /// Generated records never received, per format.
    pub missing: BTreeMap<usize, u64>,
    /// Received records that were never generated, per format.
    pub extra: BTreeMap<usize, u64>,
    /// Generated records received more than once (the surplus), per format.
    pub duplicates: BTreeMap<usize, u64>,
    /// Received records whose keys fit no generated format.
    pub unidentified: u64,
    /// The first few of those, as JSON.
    pub first_unidentified: Vec<String>,
}

impl Comparison {
    /// Records received more often than generated, summed over formats.
    #[must_use]
    pub fn duplicate_count(&self) -> u64 {
        self.duplicates.values().sum()
    }

    /// Whether every generated record arrived exactly once and nothing else did.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        self.is_complete() && self.duplicates.is_empty() && self.received == self.expected
    }

    /// Whether every generated record arrived at least once and nothing unknown did.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.unidentified == 0
    }

    /// Fails with every difference unless [`Comparison::is_exact`].
    ///
    /// # Errors
    /// The differences, per format.
    pub fn assert_exact(&self) -> anyhow::Result<()> {
        ensure!(
            self.is_exact(),
            "received records differ from the ground truth:\n{self}"
        );
        Ok(())
    }

    /// Fails unless every record arrived and at most `bound` duplicates did.
    ///
    /// # Errors
    /// The differences, per format.
    pub fn assert_complete_with_duplicates_at_most(&self, bound: u64) -> anyhow::Result<()> {
        ensure!(
            self.is_complete() && self.duplicate_count() <= bound,
            "received records differ from the ground truth (duplicates allowed: {bound}):\n{self}"
        );
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  received: {}", self.received)?;
        for (i, header) in self.formats.iter().enumerate() {
            let get = |m: &BTreeMap<usize, u64>| m.get(&i).copied().unwrap_or(0);
            let (m, e, d) = (get(&self.missing), get(&self.extra), get(&self.duplicates));
            if m + e + d > 0 {
                writeln!(
                    f,
                    "  format {i} [{header}]: missing={m} extra={e} duplicates={d}"
                )?;
            }
        }
        if self.unidentified > 0 {
            writeln!(
                f,
                "  {} record(s) fit no generated format, e.g. {:?}",
                self.unidentified, self.first_unidentified
            )?;
        }
        Ok(())
    }
}
