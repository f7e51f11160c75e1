//! The simulated VPC Flow Logs service: records of each aggregation interval go to files by
//! 5-minute `end` window and writer, with a header, rotated at a size, gzipped (or written as
//! Parquet), named like AWS names them, and delivered after a realistic delay and not in order.
//!
//! Both file formats are made from the same text lines: a Parquet row is the line's tokens
//! typed, rotation counts the text's size, and the records digest hashes the line, so a run's
//! manifest is the same in either format but for the keys' ending and the objects' sizes.

use bytes::Bytes;
use chrono::DateTime;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::error::ConfigError;
use super::fields::{LogFormat, ResourceType};
use super::files::{Files, MIN_DELAY};
use super::manifest::{FlowLogIdentity, Manifest, ManifestOptions, ObjectSummary};
use super::options::{FileFormat, Filter, GenerateOptions, validate_account, validate_region};
use super::parquet_file::ParquetLayout;
use super::record::{LineWriter, Record, Status};
use super::topology::{Sizing, Source, Topology, hex_id};
use super::traffic::{ModelOptions, TrafficModel};
use super::transit::{TgwLineWriter, TgwRecord, Transit};
use super::transit_traffic::TransitModel;

/// Files hold records whose `end` falls in one 5-minute window.
pub const WINDOW_SECS: i64 = 300;

/// One object as the service delivers it.
#[derive(Debug, Clone)]
pub struct FlowLogObject {
    /// Destination bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The body: gzip text, or a Parquet file.
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

/// The traffic of the run: VPC records, or transit-gateway records.
enum Engine {
    Vpc {
        model: TrafficModel,
        records: Vec<Record>,
    },
    Transit {
        model: TransitModel,
        records: Vec<TgwRecord>,
    },
}

impl Engine {
    fn topology(&self) -> &Topology {
        match self {
            Engine::Vpc { model, .. } => &model.topology,
            Engine::Transit { model, .. } => &model.topology,
        }
    }
}

/// Objects in delivery order, generated lazily with bounded memory (the batch and live modes
/// both read this iterator).
pub struct ObjectStream {
    engine: Engine,
    /// The format as the flow log's resource type has it (`default` resolved).
    format: LogFormat,
    options: GenerateOptions,
    start: i64,
    end: i64,
    next_t0: i64,
    line: Vec<u8>,
    files: Files,
    released_until: i64,
}

impl ObjectStream {
    /// Validates the options and builds the estate.
    ///
    /// # Errors
    /// [`ConfigError`] when an option is invalid.
    pub fn new(options: &GenerateOptions) -> Result<Self, ConfigError> {
        let format = validate(options)?;
        let service = &options.service;
        let t = &options.traffic;
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut sources = Vec::new();
        for account in &service.account_ids {
            for region in &service.regions {
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
        let sources = topology.sources.clone();
        let engine = match service.resource_type {
            ResourceType::Vpc => Engine::Vpc {
                model: TrafficModel::new(
                    topology,
                    ModelOptions {
                        seed: options.seed,
                        aggregation,
                        rate: t.rate,
                    },
                ),
                records: Vec::new(),
            },
            ResourceType::TransitGateway => {
                let transit = Transit::build(&mut rng, &topology, service.writers);
                Engine::Transit {
                    model: TransitModel::new(topology, transit, options.seed, t.rate),
                    records: Vec::new(),
                }
            }
        };
        let parquet = match service.file_format {
            FileFormat::PlainText => None,
            FileFormat::Parquet => Some(ParquetLayout::new(
                &format,
                service.resource_type,
                service.parquet,
                service.gzip_level,
            )?),
        };
        let fields = format
            .fields()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
        let mut files_rng = ChaCha8Rng::seed_from_u64(options.seed);
        files_rng.set_stream(u64::MAX);
        Ok(Self {
            engine,
            format,
            options: options.clone(),
            start,
            end,
            next_t0: start,
            line: Vec::with_capacity(512),
            files: Files::new(options, sources, fields, parquet, files_rng),
            released_until: i64::MIN,
        })
    }

    /// The options as recorded in the manifest (after alignment).
    #[must_use]
    pub fn manifest_options(&self) -> ManifestOptions {
        let s = &self.options.service;
        let t = &self.options.traffic;
        let parquet = s.file_format == FileFormat::Parquet;
        ManifestOptions {
            start: DateTime::from_timestamp(self.start, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            duration_secs: self.end - self.start,
            resource_type: s.resource_type.to_string(),
            filter: s.filter.to_string(),
            format: s.format.to_format_string(),
            version: self.format.version(),
            destination: s.destination.arn(),
            file_format: s.file_format.to_string(),
            parquet_compression: parquet.then(|| s.parquet.compression.to_string()),
            row_group_rows: parquet.then_some(s.parquet.row_group_rows),
            hive: s.layout.hive,
            hourly: s.layout.hourly,
            aggregation: s.aggregation,
            rotate_bytes: s.rotate_bytes,
            gzip_level: s.gzip_level,
            flow_logs: self
                .engine
                .topology()
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
        let (line, files) = (&mut self.line, &mut self.files);
        let window_of = |end: i64| end - end.rem_euclid(WINDOW_SECS);
        match &mut self.engine {
            Engine::Vpc { model, records } => {
                records.clear();
                model.interval(t0, records);
                let writer = LineWriter {
                    format: &self.format,
                    topology: &model.topology,
                };
                let filter = self.options.service.filter;
                for r in records.iter() {
                    let keep = match filter {
                        Filter::All => true,
                        Filter::Accept => r.status != Status::Ok || r.accept,
                        Filter::Reject => r.status != Status::Ok || !r.accept,
                    };
                    if !keep {
                        continue;
                    }
                    let eni = &model.topology.enis[r.eni as usize];
                    line.clear();
                    writer.write(line, r);
                    let key = (window_of(r.end), eni.source, eni.shard);
                    files.add(key, line, r.end, r.action_name(), r.status);
                }
            }
            Engine::Transit { model, records } => {
                records.clear();
                model.interval(t0, records);
                let writer = TgwLineWriter {
                    format: &self.format,
                    topology: &model.topology,
                    transit: &model.transit,
                };
                for r in records.iter() {
                    let attachment = &model.transit.attachments[r.attachment() as usize];
                    for &(source, as_attachment) in &attachment.captured_by {
                        line.clear();
                        writer.write(line, r, as_attachment);
                        let key = (window_of(r.end), source, attachment.shard);
                        // Transit-gateway records have no action: counted under `-`.
                        files.add(key, line, r.end, "-", r.status);
                    }
                }
            }
        }
        self.files.close_done(t1);
        self.released_until = t1 + MIN_DELAY;
        true
    }
}

/// Checks what CreateFlowLogs and the generator would refuse; returns the format as the
/// resource type has it.
fn validate(options: &GenerateOptions) -> Result<LogFormat, ConfigError> {
    let service = &options.service;
    let range = |name: &'static str, value: String, reason: &str| {
        Err(ConfigError::Range {
            name,
            value,
            reason: reason.into(),
        })
    };
    if service.aggregation != 60 && service.aggregation != 600 {
        return Err(ConfigError::Aggregation(service.aggregation));
    }
    if service.account_ids.is_empty() || service.regions.is_empty() {
        return range(
            "account_ids/regions",
            "[]".into(),
            "give at least one account and one region",
        );
    }
    for account in &service.account_ids {
        validate_account(account)?;
    }
    for region in &service.regions {
        validate_region(region)?;
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
    if service.resource_type == ResourceType::TransitGateway {
        if service.aggregation != 60 {
            return range(
                "aggregation",
                service.aggregation.to_string(),
                "transit-gateway flow logs aggregate over 60 seconds only; set it to 60",
            );
        }
        if service.filter != Filter::All {
            return range(
                "filter",
                service.filter.to_string(),
                "transit-gateway flow logs have no traffic type (no action): use ALL",
            );
        }
        if t.vpcs as usize * service.account_ids.len() < 2 {
            return range(
                "vpcs",
                t.vpcs.to_string(),
                "transit-gateway traffic flows between VPCs: give at least 2 VPCs, or several accounts",
            );
        }
    }
    service.format.for_resource(service.resource_type)
}

impl Iterator for ObjectStream {
    type Item = FlowLogObject;

    fn next(&mut self) -> Option<FlowLogObject> {
        loop {
            if let Some(object) = self.files.pop_delivered(self.released_until) {
                return Some(object);
            }
            if !self.step() {
                if self.released_until != i64::MAX {
                    // The period is over: close what is open and release everything.
                    self.files.close_all();
                    self.released_until = i64::MAX;
                }
                return self.files.pop_delivered(i64::MAX);
            }
        }
    }
}
