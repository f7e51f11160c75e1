//! The simulated VPC Flow Logs service: records of each aggregation interval go to files by
//! 5-minute `end` window and writer, with a header, rotated at a size, gzipped, named like AWS
//! names them, and delivered after a realistic delay and not in order.

use std::collections::BTreeMap;
use std::io::Write as _;

use bytes::Bytes;
use chrono::DateTime;
use flate2::{Compression, GzBuilder, write::GzEncoder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::destination::KeyParts;
use super::digest::{RecordsDigest, joined_line_digest};
use super::error::ConfigError;
use super::manifest::{
    ByAction, ByLogStatus, FlowLogIdentity, Manifest, ManifestOptions, ObjectSummary,
};
use super::options::{Filter, GenerateOptions, validate_account, validate_region};
use super::record::{LineWriter, Record, Status};
use super::topology::{Sizing, Source, Topology, hex_id};
use super::traffic::{ModelOptions, TrafficModel};

/// Files hold records whose `end` falls in one 5-minute window.
pub const WINDOW_SECS: i64 = 300;
/// The earliest a file is delivered after its last interval closed, and the spread after that.
const MIN_DELAY: i64 = 60;
const DELAY_SPREAD: i64 = 480;
/// Text is handed to the gzip encoder in chunks of about this size.
const CHUNK: usize = 32 * 1024;

/// One object as the service delivers it.
#[derive(Debug, Clone)]
pub struct FlowLogObject {
    /// Destination bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The gzip body.
    pub body: Bytes,
    /// Simulated delivery time (Unix seconds).
    pub delivered_at: i64,
    /// Its ground truth (the manifest entry).
    pub summary: ObjectSummary,
}

/// The result of a batch run: every object in delivery order, and the manifest.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Objects in delivery order.
    pub objects: Vec<FlowLogObject>,
    /// Ground truth.
    pub manifest: Manifest,
}

/// Generates the whole run in memory.
///
/// # Errors
/// [`ConfigError`] when an option is invalid.
pub fn generate(options: &GenerateOptions) -> Result<Generated, ConfigError> {
    let stream = ObjectStream::new(options)?;
    let manifest_options = stream.manifest_options();
    let objects: Vec<FlowLogObject> = stream.collect();
    let manifest = Manifest::new(
        options.seed,
        manifest_options,
        objects.iter().map(|o| o.summary.clone()).collect(),
    );
    Ok(Generated { objects, manifest })
}

/// One file being written.
struct FileBuilder {
    source: usize,
    window: i64,
    part: u32,
    encoder: GzEncoder<Vec<u8>>,
    /// Lines not yet compressed: the encoder is fed in large chunks (its per-call CRC and
    /// deflate overheads dominate with one call per line).
    pending: Vec<u8>,
    raw_bytes: u64,
    records: u64,
    by_action: ByAction,
    by_status: ByLogStatus,
    first_end: i64,
    last_end: i64,
    digest: RecordsDigest,
}

/// Objects in delivery order, generated lazily with bounded memory (the batch and live modes
/// both read this iterator).
pub struct ObjectStream {
    model: TrafficModel,
    options: GenerateOptions,
    start: i64,
    end: i64,
    next_t0: i64,
    header: Vec<u8>,
    fields: Vec<String>,
    records: Vec<Record>,
    line: Vec<u8>,
    open: BTreeMap<(i64, usize, u32), FileBuilder>,
    ready: BTreeMap<(i64, String), FlowLogObject>,
    files_rng: ChaCha8Rng,
    released_until: i64,
}

impl ObjectStream {
    /// Validates the options and builds the estate.
    ///
    /// # Errors
    /// [`ConfigError`] when an option is invalid.
    pub fn new(options: &GenerateOptions) -> Result<Self, ConfigError> {
        let service = &options.service;
        if service.aggregation != 60 && service.aggregation != 600 {
            return Err(ConfigError::Aggregation(service.aggregation));
        }
        let range = |name: &'static str, value: String, reason: &str| {
            Err(ConfigError::Range {
                name,
                value,
                reason: reason.into(),
            })
        };
        if service.account_ids.is_empty() || service.regions.is_empty() {
            return range(
                "account_ids/regions",
                "[]".into(),
                "give at least one account and one region",
            );
        }
        if service.gzip_level > 9 {
            return range("gzip_level", service.gzip_level.to_string(), "0 to 9");
        }
        if service.rotate_bytes < 1024 {
            return range(
                "rotate_bytes",
                service.rotate_bytes.to_string(),
                "at least 1024",
            );
        }
        if !(1..=64).contains(&service.writers) {
            return range("writers", service.writers.to_string(), "1 to 64");
        }
        let t = &options.traffic;
        if !(1..=250).contains(&t.vpcs) || !(1..=2000).contains(&t.enis_per_vpc) {
            return range(
                "vpcs/enis_per_vpc",
                format!("{}/{}", t.vpcs, t.enis_per_vpc),
                "1..=250 VPCs and 1..=2000 ENIs per VPC",
            );
        }
        if !(t.rate > 0.0 && t.rate <= 10_000.0) {
            return range("rate", t.rate.to_string(), "greater than 0, at most 10000");
        }
        if options.duration_secs <= 0 {
            return range(
                "duration",
                options.duration_secs.to_string(),
                "must be positive",
            );
        }
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut sources = Vec::new();
        for account in &service.account_ids {
            validate_account(account)?;
            for region in &service.regions {
                validate_region(region)?;
                let flow_log_id = hex_id(&mut rng, "fl-", 17);
                sources.push(Source {
                    account_id: account.clone(),
                    region: region.clone(),
                    flow_log_id,
                });
            }
        }
        let sizing = Sizing {
            vpcs: t.vpcs,
            enis_per_vpc: t.enis_per_vpc,
            shards: service.writers,
        };
        let topology = Topology::build(&mut rng, sources, sizing);
        let aggregation = i64::from(service.aggregation);
        let step = aggregation.max(WINDOW_SECS);
        let start = options.start.div_euclid(step) * step;
        let end = start + (options.duration_secs + options.start - start + step - 1) / step * step;
        let model = TrafficModel::new(
            topology,
            ModelOptions {
                seed: options.seed,
                aggregation,
                rate: t.rate,
            },
        );
        let mut header = service.format.header().into_bytes();
        header.push(b'\n');
        let mut files_rng = ChaCha8Rng::seed_from_u64(options.seed);
        files_rng.set_stream(u64::MAX);
        Ok(Self {
            model,
            options: options.clone(),
            start,
            end,
            next_t0: start,
            header,
            fields: service
                .format
                .fields()
                .iter()
                .map(|f| f.name().to_owned())
                .collect(),
            records: Vec::new(),
            line: Vec::with_capacity(512),
            open: BTreeMap::new(),
            ready: BTreeMap::new(),
            files_rng,
            released_until: i64::MIN,
        })
    }

    /// The options as recorded in the manifest (after alignment).
    #[must_use]
    pub fn manifest_options(&self) -> ManifestOptions {
        let s = &self.options.service;
        let t = &self.options.traffic;
        ManifestOptions {
            start: DateTime::from_timestamp(self.start, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            duration_secs: self.end - self.start,
            filter: s.filter.to_string(),
            format: s.format.to_format_string(),
            version: s.format.version(),
            destination: s.destination.arn(),
            hive: s.layout.hive,
            hourly: s.layout.hourly,
            aggregation: s.aggregation,
            rotate_bytes: s.rotate_bytes,
            gzip_level: s.gzip_level,
            flow_logs: self
                .model
                .topology
                .sources
                .iter()
                .map(|x| FlowLogIdentity {
                    account_id: x.account_id.clone(),
                    region: x.region.clone(),
                    flow_log_id: x.flow_log_id.clone(),
                })
                .collect(),
            vpcs: t.vpcs,
            enis_per_vpc: t.enis_per_vpc,
            rate: t.rate,
            writers: s.writers,
        }
    }

    /// The aligned simulated period `[start, end)` in Unix seconds.
    #[must_use]
    pub fn period(&self) -> (i64, i64) {
        (self.start, self.end)
    }

    /// Simulates one more aggregation interval; returns false when the period is over.
    fn step(&mut self) -> bool {
        if self.next_t0 >= self.end {
            return false;
        }
        let agg = i64::from(self.options.service.aggregation);
        let (t0, t1) = (self.next_t0, self.next_t0 + agg);
        self.next_t0 = t1;
        let mut records = std::mem::take(&mut self.records);
        records.clear();
        self.model.interval(t0, &mut records);
        for r in &records {
            self.route(r);
        }
        self.records = records;
        let done: Vec<_> = self
            .open
            .keys()
            .filter(|(w, _, _)| w + WINDOW_SECS <= t1)
            .copied()
            .collect();
        for k in done {
            if let Some(b) = self.open.remove(&k) {
                self.finish(b, t1);
            }
        }
        self.released_until = t1 + MIN_DELAY;
        true
    }

    fn route(&mut self, r: &Record) {
        let keep = match self.options.service.filter {
            Filter::All => true,
            Filter::Accept => r.status != Status::Ok || r.accept,
            Filter::Reject => r.status != Status::Ok || !r.accept,
        };
        if !keep {
            return;
        }
        let eni = &self.model.topology.enis[r.eni as usize];
        let window = r.end - r.end.rem_euclid(WINDOW_SECS);
        let key = (window, eni.source, eni.shard);
        self.line.clear();
        LineWriter {
            format: &self.options.service.format,
            topology: &self.model.topology,
        }
        .write(&mut self.line, r);
        let len = self.line.len() as u64;
        let rotate = self.open.get(&key).is_some_and(|b| {
            b.records > 0 && b.raw_bytes + len > self.options.service.rotate_bytes
        });
        if rotate && let Some(full) = self.open.remove(&key) {
            let part = full.part;
            let flush = align_up(
                window + WINDOW_SECS,
                i64::from(self.options.service.aggregation),
            );
            self.finish(full, flush);
            let next = self.builder(key.1, window, part + 1);
            self.open.insert(key, next);
        }
        if !self.open.contains_key(&key) {
            let b = self.builder(key.1, window, 0);
            self.open.insert(key, b);
        }
        let Some(b) = self.open.get_mut(&key) else {
            return;
        };
        b.pending.extend_from_slice(&self.line);
        if b.pending.len() >= CHUNK {
            // Writing into a Vec cannot fail.
            let _ = b.encoder.write_all(&b.pending);
            b.pending.clear();
        }
        b.raw_bytes += len;
        b.records += 1;
        b.first_end = b.first_end.min(r.end);
        b.last_end = b.last_end.max(r.end);
        b.digest
            .add(joined_line_digest(&self.line[..self.line.len() - 1]));
        match r.action_name() {
            "ACCEPT" => b.by_action.accept += 1,
            "REJECT" => b.by_action.reject += 1,
            _ => b.by_action.none += 1,
        }
        match r.status {
            Status::Ok => b.by_status.ok += 1,
            Status::NoData => b.by_status.nodata += 1,
            Status::SkipData => b.by_status.skipdata += 1,
        }
    }

    fn builder(&self, source: usize, window: i64, part: u32) -> FileBuilder {
        let level = Compression::new(self.options.service.gzip_level);
        let encoder = GzBuilder::new()
            .operating_system(255)
            .write(Vec::with_capacity(64 * 1024), level);
        let mut pending = Vec::with_capacity(CHUNK + 1024);
        pending.extend_from_slice(&self.header);
        FileBuilder {
            source,
            window,
            part,
            encoder,
            pending,
            raw_bytes: self.header.len() as u64,
            records: 0,
            by_action: ByAction::default(),
            by_status: ByLogStatus::default(),
            first_end: i64::MAX,
            last_end: i64::MIN,
            digest: RecordsDigest::new(),
        }
    }

    /// Closes a file: names it, compresses it, and queues it for delivery.
    fn finish(&mut self, b: FileBuilder, flushed_at: i64) {
        let mut encoder = b.encoder;
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&b.pending);
        let body = encoder.finish().unwrap_or_default();
        let source = &self.model.topology.sources[b.source];
        let hash: u32 = self.files_rng.random();
        let delivered_at = flushed_at + MIN_DELAY + self.files_rng.random_range(0..DELAY_SPREAD);
        let service = &self.options.service;
        let parts = KeyParts {
            account_id: &source.account_id,
            region: &source.region,
            flow_log_id: &source.flow_log_id,
            window_start: b.window,
            hash,
        };
        let key = service.layout.key(&service.destination.prefix, &parts);
        let summary = ObjectSummary {
            bucket: service.destination.bucket.clone(),
            key: key.clone(),
            fields: self.fields.clone(),
            records: b.records,
            by_action: b.by_action,
            by_log_status: b.by_status,
            first_end: b.first_end,
            last_end: b.last_end,
            gzip_bytes: body.len() as u64,
            raw_bytes: b.raw_bytes,
            records_digest: b.digest.to_hex(),
            window_start: b.window,
            delivered_at,
        };
        let object = FlowLogObject {
            bucket: summary.bucket.clone(),
            key: key.clone(),
            body: Bytes::from(body),
            delivered_at,
            summary,
        };
        self.ready.insert((delivered_at, key), object);
    }
}

impl Iterator for ObjectStream {
    type Item = FlowLogObject;

    fn next(&mut self) -> Option<FlowLogObject> {
        loop {
            if let Some(entry) = self.ready.first_entry()
                && entry.key().0 <= self.released_until
            {
                return Some(entry.remove());
            }
            if !self.step() {
                if self.released_until != i64::MAX {
                    // The period is over: close what is open and release everything.
                    let rest: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
                    let agg = i64::from(self.options.service.aggregation);
                    for ((w, _, _), b) in rest {
                        self.finish(b, align_up(w + WINDOW_SECS, agg));
                    }
                    self.released_until = i64::MAX;
                }
                return self.ready.pop_first().map(|(_, o)| o);
            }
        }
    }
}

fn align_up(t: i64, step: i64) -> i64 {
    (t + step - 1).div_euclid(step) * step
}
