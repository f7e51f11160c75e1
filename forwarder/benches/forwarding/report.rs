//! The bench's figures: one [`CaseResult`] per object, printed as a table and serialised as
//! JSON for tooling.

use std::fmt::Write as _;

use serde::Serialize;

use crate::floor::{Floor, LevelPoint};
use crate::inputs::{BenchObject, GeneratorSpeed};
use crate::measure::Usage;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Cores available to the forwarder (and to the floor).
    pub cores: usize,
    /// Gzip level of upload bodies.
    pub gzip_level: u32,
    /// One entry per object.
    pub cases: Vec<CaseResult>,
}

/// One object forwarded, with its floor.
#[derive(Debug, Serialize)]
pub struct CaseResult {
    /// `default` or `v5`.
    pub format: &'static str,
    /// Records in the object.
    pub records: u64,
    /// Runs of each measurement; every figure is the median run.
    pub runs: usize,
    /// Uncompressed input bytes.
    pub input_bytes: u64,
    /// Compressed input bytes.
    pub input_gzip_bytes: u64,
    /// `flowlog-forwarder forward` end to end.
    pub forward: Usage,
    /// Records per second end to end.
    pub forward_records_per_s: f64,
    /// Uncompressed input megabytes per second end to end.
    pub forward_input_mb_per_s: f64,
    /// The floor (full cases only).
    pub floor: Option<Floor>,
    /// Records per second the floor allows.
    pub floor_records_per_s: Option<f64>,
    /// End-to-end throughput as a share of the floor's.
    pub share_of_floor: Option<f64>,
    /// `parse --no-compress` of the plain text to /dev/null (full cases only).
    pub parse: Option<Usage>,
    /// Its records per CPU second (one core: parse is single-threaded).
    pub parse_records_per_cpu_s: Option<f64>,
    /// Forwarded like the Lambda: progress markers in an S3 that waits `s3_latency_ms` per
    /// request (the default-format full case only).
    pub forward_s3_state: Option<Usage>,
    /// Its records per second.
    pub forward_s3_state_records_per_s: Option<f64>,
    /// The latency of that S3, in milliseconds.
    pub s3_latency_ms: Option<u64>,
    /// The same rows as a Parquet object (AWS's types, GZIP pages), forwarded end to end.
    pub parquet: Option<Usage>,
    /// Its records per second.
    pub parquet_records_per_s: Option<f64>,
    /// Its size in bytes.
    pub parquet_bytes: Option<u64>,
    /// The generator while making the object.
    pub generator_records_per_s: f64,
    /// Ratio against CPU of every gzip level on this object's JSON (full cases only).
    pub levels: Vec<LevelPoint>,
}

impl CaseResult {
    /// The figures known right after forwarding; floor, parse and levels are added after.
    pub fn new(object: &BenchObject, generator: GeneratorSpeed, forward: Usage) -> Self {
        let records = object.records as f64;
        Self {
            format: object.format,
            records: object.records,
            runs: 1,
            input_bytes: object.plain_bytes,
            input_gzip_bytes: object.gzip_bytes,
            forward_records_per_s: records / forward.wall_s,
            forward_input_mb_per_s: object.plain_bytes as f64 / 1e6 / forward.wall_s,
            forward,
            floor: None,
            floor_records_per_s: None,
            share_of_floor: None,
            parse: None,
            parse_records_per_cpu_s: None,
            forward_s3_state: None,
            forward_s3_state_records_per_s: None,
            s3_latency_ms: None,
            parquet: None,
            parquet_records_per_s: None,
            parquet_bytes: None,
            generator_records_per_s: generator.records as f64 / generator.seconds,
            levels: Vec::new(),
        }
    }

    /// The run with progress markers in an S3 answering after `latency`.
    pub fn set_s3_state(&mut self, usage: Usage, latency: std::time::Duration) {
        self.forward_s3_state_records_per_s = Some(self.records as f64 / usage.wall_s);
        self.forward_s3_state = Some(usage);
        self.s3_latency_ms = u64::try_from(latency.as_millis()).ok();
    }

    /// The run of the same rows as Parquet (`bytes` of it).
    pub fn set_parquet(&mut self, usage: Usage, bytes: u64) {
        self.parquet_records_per_s = Some(self.records as f64 / usage.wall_s);
        self.parquet = Some(usage);
        self.parquet_bytes = Some(bytes);
    }

    /// Fills in the figures derived from the floor and from parse.
    pub fn derive(&mut self) {
        let records = self.records as f64;
        if let Some(floor) = &self.floor {
            let floor_rate = records / floor.wall_s;
            self.floor_records_per_s = Some(floor_rate);
            self.share_of_floor = Some(self.forward_records_per_s / floor_rate);
        }
        if let Some(parse) = &self.parse {
            self.parse_records_per_cpu_s = Some(records / parse.cpu_s());
        }
    }
}

impl Report {
    /// An empty report.
    pub fn new(cores: usize, gzip_level: u32) -> Self {
        Self {
            cores,
            gzip_level,
            cases: Vec::new(),
        }
    }

    /// The figures as aligned text tables.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nforward end to end ({} cores, upload gzip level {})",
            self.cores, self.gzip_level
        );
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>11} {:>9} {:>7} {:>7} {:>8} {:>9} {:>11} {:>8}",
            "format",
            "records",
            "records/s",
            "in MB/s",
            "ratio",
            "cpu s",
            "wall s",
            "peak RSS",
            "floor rec/s",
            "of floor"
        );
        for case in &self.cases {
            let ratio = case
                .floor
                .as_ref()
                .map(|f| f.json_bytes as f64 / f.gzip_bytes.max(1) as f64);
            let _ = writeln!(
                out,
                "{:<8} {:>10} {:>11.0} {:>9.1} {:>7} {:>7.2} {:>8.2} {:>6.1} MB {:>11} {:>8}",
                case.format,
                case.records,
                case.forward_records_per_s,
                case.forward_input_mb_per_s,
                opt(ratio, |r| format!("{r:.1}")),
                case.forward.cpu_s(),
                case.forward.wall_s,
                case.forward.max_rss_bytes as f64 / 1e6,
                opt(case.floor_records_per_s, |r| format!("{r:.0}")),
                opt(case.share_of_floor, |s| format!("{:.0}%", s * 100.0)),
            );
        }
        for case in &self.cases {
            if let (Some(usage), Some(rate)) =
                (&case.forward_s3_state, case.forward_s3_state_records_per_s)
            {
                let note = format!(
                    "progress markers in S3, {} ms per request",
                    case.s3_latency_ms.unwrap_or(0)
                );
                variant_row(&mut out, case, usage, rate, &note);
            }
        }
        for case in &self.cases {
            if let (Some(usage), Some(rate)) = (&case.parquet, case.parquet_records_per_s) {
                let note = format!(
                    "the same rows as Parquet ({:.1} MB; text gzip {:.1} MB)",
                    case.parquet_bytes.unwrap_or(0) as f64 / 1e6,
                    case.input_gzip_bytes as f64 / 1e6,
                );
                variant_row(&mut out, case, usage, rate, &note);
            }
        }
        let _ = writeln!(
            out,
            "\nfloor parts, one core each (gunzip input; gzip produced JSON) and parse --no-compress"
        );
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>9} {:>9} {:>10} {:>14} {:>9} {:>15}",
            "format",
            "records",
            "gunzip s",
            "gzip s",
            "JSON MB",
            "parse rec/cpu-s",
            "parse MB",
            "generator rec/s"
        );
        for case in self.cases.iter().filter(|c| c.floor.is_some()) {
            let floor = case.floor.as_ref();
            let _ = writeln!(
                out,
                "{:<8} {:>10} {:>9} {:>9} {:>10} {:>14} {:>6.1} MB {:>15.0}",
                case.format,
                case.records,
                opt(floor.map(|f| f.gunzip_s), |s| format!("{s:.3}")),
                opt(floor.map(|f| f.gzip_s), |s| format!("{s:.3}")),
                opt(floor.map(|f| f.json_bytes as f64 / 1e6), |s| format!(
                    "{s:.0}"
                )),
                opt(case.parse_records_per_cpu_s, |r| format!("{r:.0}")),
                case.parse
                    .as_ref()
                    .map_or(0.0, |p| p.max_rss_bytes as f64 / 1e6),
                case.generator_records_per_s,
            );
        }
        let _ = writeln!(
            out,
            "\ngzip of the produced JSON: MB/s per core and ratio, by level"
        );
        for case in self.cases.iter().filter(|c| !c.levels.is_empty()) {
            let _ = write!(out, "{:<8}", case.format);
            for point in &case.levels {
                let name = match point.compressor {
                    "libdeflate" => format!("{}", point.level),
                    other => format!("{other}:{}", point.level),
                };
                let _ = write!(out, "  {name}={:.0}/{:.1}x", point.mb_per_s, point.ratio);
            }
            let _ = writeln!(out);
        }
        out
    }
}

fn opt<T>(value: Option<T>, show: impl FnOnce(T) -> String) -> String {
    value.map_or_else(|| "-".to_owned(), show)
}

/// A row of the end-to-end table for a variant of a case (markers in S3, Parquet): its own
/// speed, CPU, wall and memory, and what the variant is.
fn variant_row(out: &mut String, case: &CaseResult, usage: &Usage, rate: f64, note: &str) {
    let _ = writeln!(
        out,
        "{:<8} {:>10} {:>11.0} {:>9.1} {:>7} {:>7.2} {:>8.2} {:>6.1} MB   {note}",
        case.format,
        case.records,
        rate,
        case.input_bytes as f64 / 1e6 / usage.wall_s,
        "",
        usage.cpu_s(),
        usage.wall_s,
        usage.max_rss_bytes as f64 / 1e6,
    );
}
