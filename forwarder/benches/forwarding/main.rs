//! `make bench`: the forwarder's speed and memory end to end, against the floor measured in
//! the same run on the same cores.
//!
//! For each seeded object (1,000,000 records of the default format and of a v5 custom format,
//! and 10,000,000 of the default format) the release `flowlog-forwarder forward` runs as its
//! own process against the emulator's S3 (a real TCP endpoint) and a mock Site24x7 that checks
//! each upload's headers and gzip magic and discards it. Reported: records/s, input MB/s
//! (uncompressed), output gzip ratio, CPU and peak RSS; the floor (gunzip the input + gzip the
//! produced JSON at the same level); `parse --no-compress` to /dev/null; the generator's speed;
//! and ratio against CPU for every gzip level. The default-format object is also forwarded the
//! way the Lambda runs, with its progress markers in S3, against a second emulated S3 that
//! answers each request after [`S3_LATENCY`] (a real service's time to first byte). A table
//! goes to stdout, then the same figures as one JSON document (also written to
//! `target/bench/results.json`).
//!
//! `cargo bench -p flowlog-forwarder --bench forwarding -- [--records N] [--large N]
//! [--level L] [--runs N] [--dir DIR] [--keep]` (`--large 0` skips the 10M run; `--keep` leaves
//! the generated objects in DIR for profiling).

mod floor;
mod inputs;
mod measure;
mod report;
mod to_parquet;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use flowlog_emulator::Emulator;
use flowlog_forwarder::LogTypeConfig;
use flowlog_forwarder::batch::DEFAULT_GZIP_LEVEL;
use serde_json::json;

use crate::inputs::BenchObject;
use crate::measure::Job;
use crate::report::{CaseResult, Report};

const FORWARDER: &str = env!("CARGO_BIN_EXE_flowlog-forwarder");
const BUCKET: &str = "flow-logs";
/// What each request to the Lambda-like S3 waits: real S3 answers small PUTs and GETs in
/// 10–30 ms.
const S3_LATENCY: Duration = Duration::from_millis(20);

/// What to run.
struct Options {
    records: u64,
    large: u64,
    level: u32,
    dir: PathBuf,
    keep: bool,
    runs: usize,
}

impl Options {
    fn from_args() -> anyhow::Result<Self> {
        let mut options = Self {
            records: 1_000_000,
            large: 10_000_000,
            level: DEFAULT_GZIP_LEVEL,
            dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench"),
            keep: false,
            runs: 3,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes --bench. Without it this is `cargo test --all-targets`, which
        // builds in debug mode: a small smoke run then checks the harness end to end.
        if !args.iter().any(|a| a == "--bench") {
            options.records = 20_000;
            options.large = 0;
            options.runs = 1;
            options.dir = options.dir.with_file_name("bench-smoke");
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--records" => options.records = value()?.parse()?,
                "--large" => options.large = value()?.parse()?,
                "--level" => options.level = value()?.parse()?,
                "--dir" => options.dir = value()?.into(),
                "--keep" => options.keep = true,
                "--runs" => options.runs = value()?.parse()?,
                // libtest's flags mean nothing here.
                _ => {}
            }
        }
        Ok(options)
    }
}

fn main() -> anyhow::Result<()> {
    if let Some(status) = measure::wrapper_mode() {
        std::process::exit(status?);
    }
    let options = Options::from_args()?;
    std::fs::create_dir_all(&options.dir)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let runtime = tokio::runtime::Runtime::new()?;
    let start = |latency| {
        let emulator = runtime.block_on(
            Emulator::builder()
                .max_object_size(1 << 34)
                .s3_latency(latency)
                .ingest(|mock| mock.discard_bodies())
                .start(),
        )?;
        runtime.block_on(emulator.s3_client().create_bucket().bucket(BUCKET).send())?;
        anyhow::Ok(emulator)
    };
    let emulator = start(Duration::ZERO)?;
    let slow = start(S3_LATENCY)?;
    let bench = Bench {
        emulator: &emulator,
        slow: &slow,
        runtime: &runtime,
        options: &options,
        config_path: write_config(&options.dir, &emulator)?,
        cores,
    };
    let mut report = Report::new(cores, options.level);
    for format in ["default", "v5"] {
        report
            .cases
            .push(bench.case(format, options.records, true)?);
    }
    if options.large > 0 {
        report
            .cases
            .push(bench.case("default", options.large, false)?);
    }
    print!("{}", report.table());
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(options.dir.join("results.json"), &json)?;
    println!("{json}");
    Ok(())
}

/// The running testbed and what every case shares.
struct Bench<'a> {
    emulator: &'a Emulator,
    /// The Lambda-like S3: [`S3_LATENCY`] per request, progress markers kept in it.
    slow: &'a Emulator,
    runtime: &'a tokio::runtime::Runtime,
    options: &'a Options,
    config_path: PathBuf,
    cores: usize,
}

impl Bench<'_> {
    /// Generates one object and forwards it; `full` cases also measure the floor, the level
    /// sweep and `parse`. The machine's speed drifts (shared hosts), so forwarding and the
    /// floor alternate, `--runs` times each, and the medians are compared.
    fn case(&self, format: &'static str, records: u64, full: bool) -> anyhow::Result<CaseResult> {
        eprintln!("bench: generating {records} {format} records");
        let (object, generator) = inputs::generate(format, records, &self.options.dir, full)?;
        let key = format!("bench/{format}-{records}.log.gz");
        self.put(self.emulator, &key, &object.gzip_path)?;
        eprintln!("bench: the same rows as Parquet");
        let (parquet_path, parquet_bytes) = inputs::to_parquet(&object, &self.options.dir)?;
        let parquet_key = format!("bench/{format}-{records}.log.parquet");
        self.put(self.emulator, &parquet_key, &parquet_path)?;
        let lambda_like = full && format == "default";
        if lambda_like {
            self.put(self.slow, &key, &object.gzip_path)?;
        }
        let runs = if full { self.options.runs.max(1) } else { 1 };
        let floor_input = if full {
            let config = LogTypeConfig::from_file(&self.config_path)?;
            let data = std::fs::read(&object.gzip_path)?;
            let sealed = floor::batches(&data, &config)?;
            Some((data, sealed))
        } else {
            None
        };
        let (mut forwards, mut floors, mut with_s3_state) = (Vec::new(), Vec::new(), Vec::new());
        let mut parquets = Vec::new();
        for run in 1..=runs {
            eprintln!("bench: forwarding s3://{BUCKET}/{key} (run {run} of {runs})");
            let state = self.options.dir.join("state");
            let _ = std::fs::remove_dir_all(&state);
            let local: [OsString; 2] = ["--state-dir".into(), state.into()];
            forwards.push(self.forward(self.emulator, &local, &key, &object)?);
            eprintln!("bench: forwarding s3://{BUCKET}/{parquet_key} (run {run} of {runs})");
            let state = self.options.dir.join("state");
            let _ = std::fs::remove_dir_all(&state);
            let local: [OsString; 2] = ["--state-dir".into(), state.into()];
            parquets.push(self.forward(self.emulator, &local, &parquet_key, &object)?);
            if lambda_like {
                eprintln!(
                    "bench: forwarding with progress markers in a slow S3 (run {run} of {runs})"
                );
                let in_s3: [OsString; 2] = [
                    "--state-s3".into(),
                    format!("s3://{BUCKET}/state-{run}/").into(),
                ];
                with_s3_state.push(self.forward(self.slow, &in_s3, &key, &object)?);
            }
            if let Some((data, sealed)) = &floor_input {
                eprintln!("bench: the floor (run {run} of {runs})");
                let level = self.options.level;
                floors.push(floor::measure(&object, data, sealed, level, self.cores)?);
            }
        }
        self.runtime.block_on(
            self.emulator
                .s3_client()
                .delete_object()
                .bucket(BUCKET)
                .key(&parquet_key)
                .send(),
        )?;
        for emulator in [self.emulator, self.slow] {
            self.runtime.block_on(
                emulator
                    .s3_client()
                    .delete_object()
                    .bucket(BUCKET)
                    .key(&key)
                    .send(),
            )?;
        }
        let mut result = CaseResult::new(&object, generator, median(forwards, |u| u.wall_s));
        result.runs = runs;
        result.set_parquet(median(parquets, |u| u.wall_s), parquet_bytes);
        if !with_s3_state.is_empty() {
            result.set_s3_state(median(with_s3_state, |u| u.wall_s), S3_LATENCY);
        }
        if let Some((_, sealed)) = floor_input {
            result.floor = Some(median(floors, |f| f.wall_s));
            eprintln!("bench: gzip levels");
            result.levels = floor::level_sweep(&sealed);
            drop(sealed);
            let mut parses = Vec::new();
            for run in 1..=runs {
                eprintln!("bench: parse --no-compress (run {run} of {runs})");
                parses.push(self.parse(&object)?);
            }
            result.parse = Some(median(parses, |u| u.cpu_s()));
        }
        result.derive();
        if !self.options.keep {
            std::fs::remove_file(&object.gzip_path)?;
            std::fs::remove_file(&parquet_path)?;
            if let Some(plain) = &object.plain_path {
                std::fs::remove_file(plain)?;
            }
        }
        Ok(result)
    }

    fn put(&self, emulator: &Emulator, key: &str, path: &Path) -> anyhow::Result<()> {
        let body = std::fs::read(path)?;
        self.runtime.block_on(
            emulator
                .s3_client()
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .body(body.into())
                .send(),
        )?;
        Ok(())
    }

    /// `flowlog-forwarder forward` against `emulator`, with `state` (where markers go);
    /// checks every record was sent.
    fn forward(
        &self,
        emulator: &Emulator,
        state: &[OsString],
        key: &str,
        object: &BenchObject,
    ) -> anyhow::Result<measure::Usage> {
        let s3 = emulator.s3_settings();
        let before = emulator.ingest().stats();
        let run = Job::new(Path::new(FORWARDER))
            .args(["forward", "--config"])
            .args([&self.config_path])
            .args(["--endpoint-url", &emulator.s3_uri()])
            .args(["--upload-url", &emulator.ingest().upload_url()])
            .args([
                "--access-key",
                &s3.access_key,
                "--secret-key",
                &s3.secret_key,
            ])
            .args(["--gzip-level", &self.options.level.to_string()])
            .args(state)
            .arg(format!("s3://{BUCKET}/{key}"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .run(&self.options.dir)?;
        let sent = field(&run.stderr, "sent=");
        anyhow::ensure!(
            run.stderr.contains(" delivered ") && sent == Some(object.records),
            "the forwarder did not deliver all {} records:\n{}",
            object.records,
            run.stderr
        );
        let after = emulator.ingest().stats();
        anyhow::ensure!(
            after.requests > before.requests,
            "the mock Site24x7 received no upload"
        );
        Ok(run.usage)
    }

    /// `flowlog-forwarder parse --no-compress` on the plain text, output to /dev/null.
    fn parse(&self, object: &BenchObject) -> anyhow::Result<measure::Usage> {
        let plain = object.plain_path.as_ref().context("no plain text kept")?;
        let run = Job::new(Path::new(FORWARDER))
            .args(["parse", "--no-compress", "--config"])
            .args([&self.config_path, plain])
            .run(&self.options.dir)?;
        anyhow::ensure!(
            field(&run.stderr, "records=") == Some(object.records),
            "parse did not turn every line into a record:\n{}",
            run.stderr
        );
        Ok(run.usage)
    }
}

/// The middle sample by `key` (the upper one of an even count).
fn median<T>(mut samples: Vec<T>, key: impl Fn(&T) -> f64) -> T {
    samples.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let middle = samples.len() / 2;
    samples.swap_remove(middle)
}

/// The number after `name` in a summary line.
fn field(text: &str, name: &str) -> Option<u64> {
    let at = text.find(name)? + name.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The Site24x7 VPC profile for the mock's device key and log type, as a JSON file.
fn write_config(dir: &Path, emulator: &Emulator) -> anyhow::Result<PathBuf> {
    let path = dir.join("logTypeConfig.json");
    let config = json!({
        "apiKey": emulator.ingest().device_key(),
        "logType": emulator.ingest().log_type(),
        "uploadDomain": "logc.site24x7.com",
        "regex": LogTypeConfig::builtin_vpc_regex(),
        "dateField": "start",
        "dateFormat": "unix",
        "timezone": "+0000",
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
    Ok(path)
}
