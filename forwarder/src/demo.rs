//! The `demo` subcommand: the whole chain offline, in one process, in about twenty seconds.
//!
//! The emulator starts in process (S3, mock Site24x7); a bucket gets the "all object create
//! events" trigger; the generator plays the VPC Flow Logs service in live mode (simulated time
//! sped up) and PUTs each object when the service would deliver it; every S3 notification is
//! handed to [`Forwarder::handle_event`] exactly as Lambda would hand it over; the mock Site24x7
//! answers a seeded share of uploads with 503 so retries show. At the end the received
//! records are compared with the generator's ground truth (counts by action and log-status,
//! and the order-independent records digest) and a [`DemoSummary`] table is printed. The mock's
//! live page (its address is printed first) shows the traffic as it arrives; with `--serve`
//! everything keeps running after the summary until Ctrl-C.
//!
//! Only with the default-on cargo feature `demo` (the Lambda build leaves the emulator out).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowlog_emulator::generator::{
    self, ByAction, ByLogStatus, GenerateOptions, LiveOptions, LogFormat, RecordsDigest,
    line_digest,
};
use flowlog_emulator::{Destination, Emulator, Fault};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::LogTypeConfig;
use crate::pipeline::Forwarder;
use crate::report::ObjectReport;
use crate::settings::{Settings, StateLocation};

/// The demo's bucket (also each record's `s247agentuid`).
pub const DEMO_BUCKET: &str = "flowlogs-demo";
/// How long the forwarder may take to finish after the last PUT.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
/// Objects forwarded at once (like concurrent Lambda instances).
const CONCURRENT_INVOCATIONS: usize = 4;

/// What the demo simulates.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Simulated traffic, in seconds.
    pub duration_secs: i64,
    /// Simulated seconds per wall-clock second.
    pub speedup: f64,
    /// Seed of the traffic and of the injected 503s.
    pub seed: u64,
    /// Share of uploads the mock answers with 503 (0.0–1.0), to show retries.
    pub fault_rate: f64,
}

impl Default for DemoOptions {
    /// Ten simulated minutes at 60× (files arrive up to ~10 minutes after their window, like
    /// AWS delivers them, so about twenty seconds of wall time), 10% of uploads failing (seeded).
    fn default() -> Self {
        Self {
            duration_secs: 600,
            speedup: 60.0,
            seed: 1,
            fault_rate: 0.1,
        }
    }
}

/// `flowlog-forwarder demo` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Simulated traffic (`90s`, `10m`, `1h`).
    #[arg(long, default_value = "10m", value_parser = parse_duration_arg)]
    pub duration: i64,
    /// Simulated seconds per wall-clock second.
    #[arg(long, default_value_t = 60.0)]
    pub speedup: f64,
    /// Seed of the traffic and of the injected 503s (same seed, same traffic).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of uploads the mock Site24x7 answers with 503 (0 to turn faults off).
    #[arg(long, default_value_t = 0.1)]
    pub fault_rate: f64,
    /// Do not print each PUT and forwarded object on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// After the summary, keep the emulator, the forwarder and the live page running until
    /// Ctrl-C, to look around (and PUT more objects).
    #[arg(long)]
    pub serve: bool,
}

fn parse_duration_arg(text: &str) -> Result<i64, String> {
    generator::parse_duration(text).map_err(|e| e.to_string())
}

impl From<&DemoArgs> for DemoOptions {
    fn from(args: &DemoArgs) -> Self {
        Self {
            duration_secs: args.duration,
            speedup: args.speedup,
            seed: args.seed,
            fault_rate: args.fault_rate,
        }
    }
}

/// The subcommand: runs the demo on a new Tokio runtime, prints progress on stderr (unless
/// `--quiet`) and the summary table on stdout; success only when generated and received match.
///
/// # Errors
/// [`DemoError`] when a part cannot start.
pub fn run_cli(args: &DemoArgs) -> Result<std::process::ExitCode, DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let quiet = args.quiet;
    let progress = move |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let started = |page: &str| {
        let keep = if args.serve {
            "it stays up after the summary until Ctrl-C"
        } else {
            "add --serve to keep it up after the summary"
        };
        eprintln!("live page: {page} (open it in a browser; {keep})");
    };
    let summary = runtime.block_on(async {
        let (summary, running) = run_and_keep(DemoOptions::from(args), progress, started).await?;
        println!("{summary}");
        if args.serve {
            eprintln!(
                "serving until Ctrl-C: live page {}, S3 {} (bucket {DEMO_BUCKET}: new objects are forwarded)",
                running.page_url(),
                running.s3_uri()
            );
            let _ = tokio::signal::ctrl_c().await;
        }
        running.shutdown().await;
        Ok::<_, DemoError>(summary)
    })?;
    Ok(if summary.is_match() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// Why the demo could not run (a mismatch is not an error: see [`DemoSummary::is_match`]).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The emulator did not start or the bucket could not be set up.
    #[error("the emulator: {0}")]
    Emulator(#[from] flowlog_emulator::EmulatorError),
    /// The mock refused the fault rule.
    #[error("the mock Site24x7: {0}")]
    Ingest(#[from] flowlog_emulator::ingest::IngestError),
    /// The generator refused the options.
    #[error("the generator: {0}")]
    Generator(#[from] generator::ConfigError),
    /// A PUT into the emulated S3 failed.
    #[error("the generator: {0}")]
    Put(#[from] generator::OutputError),
    /// The forwarder could not be built.
    #[error("the forwarder: {0}")]
    Setup(#[from] crate::pipeline::SetupError),
    /// The demo's own logTypeConfig was refused (a bug).
    #[error("the demo's logTypeConfig: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The local state directory could not be created.
    #[error("a temporary state directory: {0}")]
    State(#[from] std::io::Error),
}

/// Records counted the way the generator's manifest counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects.
    pub objects: u64,
    /// Records.
    pub records: u64,
    /// Records by `action`.
    pub by_action: ByAction,
    /// Records by `log-status`.
    pub by_log_status: ByLogStatus,
    /// Sum of the records' line digests (see `flowlog_emulator::generator::line_digest`).
    pub digest: RecordsDigest,
}

/// What the demo saw: generated vs received, and how the forwarding went.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// The options it ran with.
    pub options: DemoOptions,
    /// The generator's ground truth.
    pub generated: Counts,
    /// What the mock Site24x7 accepted (objects: those the forwarder delivered).
    pub received: Counts,
    /// Received records whose fields did not fit the generated format.
    pub unrecognised: u64,
    /// Batches uploaded or dead-lettered.
    pub batches: u64,
    /// Upload retries.
    pub retries: u64,
    /// Batches stored as dead letters.
    pub dead_letters: u64,
    /// Objects that failed, with the error.
    pub failures: Vec<String>,
    /// Wall time from the first PUT until the last object was forwarded.
    pub elapsed: Duration,
}

impl DemoSummary {
    /// Whether every generated record was received exactly once and nothing else was.
    #[must_use]
    pub fn is_match(&self) -> bool {
        self.generated == self.received && self.unrecognised == 0 && self.failures.is_empty()
    }
}

/// Runs the demo; `progress` receives one human line per event worth telling (for stderr).
///
/// # Errors
/// [`DemoError`] when a part cannot start; differences are reported in the summary instead.
pub async fn run(
    options: DemoOptions,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Result<DemoSummary, DemoError> {
    let (summary, running) = run_and_keep(options, progress, |_| {}).await?;
    running.shutdown().await;
    Ok(summary)
}

/// The demo's parts after the summary: the emulator (S3, the mock Site24x7 and its live page)
/// and the forwarder, which still handles every new object, until [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    emulator: Emulator,
    state: std::path::PathBuf,
}

impl Running {
    /// The mock Site24x7's live page.
    #[must_use]
    pub fn page_url(&self) -> String {
        self.emulator.ingest().page_url()
    }

    /// The emulated S3's endpoint.
    #[must_use]
    pub fn s3_uri(&self) -> String {
        self.emulator.s3_uri()
    }

    /// Stops the emulator and removes the forwarder's temporary state.
    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// [`run`], with `started` given the live page's address as soon as the emulator is up, and
/// the parts left running for the caller to [`Running::shutdown`].
///
/// # Errors
/// [`DemoError`] when a part cannot start; differences are reported in the summary instead.
pub async fn run_and_keep(
    options: DemoOptions,
    progress: impl Fn(&str) + Send + Sync + 'static,
    started: impl FnOnce(&str),
) -> Result<(DemoSummary, Running), DemoError> {
    let progress = Arc::new(progress);
    let emulator = Emulator::start().await?;
    started(&emulator.ingest().page_url());
    emulator.create_bucket_with_trigger(DEMO_BUCKET).await?;
    if options.fault_rate > 0.0 {
        emulator.ingest().faults(vec![
            Fault::status(503)
                .probability(options.fault_rate)
                .seed(options.seed),
        ])?;
    }
    let state = std::env::temp_dir().join(format!(
        "flowlog-demo-state-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let forwarder = Arc::new(build_forwarder(&emulator, &state)?);
    let (reports, done) = forward_notifications(&emulator, forwarder, progress.clone());

    let generate = generate_options(&options);
    let format = generate.service.format.clone();
    let objects = generator::live(
        &generate,
        LiveOptions {
            speedup: options.speedup,
        },
    )?;
    progress(&format!(
        "emulator up: S3 {}, mock Site24x7 {}; generating {} of simulated traffic at {}x",
        emulator.s3_uri(),
        emulator.ingest().upload_url(),
        human_duration(options.duration_secs),
        options.speedup
    ));
    let s3 = emulator.s3_client();
    let mut generated = Counts::default();
    let started = Instant::now();
    let mut objects = std::pin::pin!(objects);
    while let Some(object) = objects.next().await {
        generator::put_object(&s3, &object).await?;
        add_summary(&mut generated, &object.summary);
        progress(&format!(
            "[{:>5.1}s] PUT s3://{}/{} ({} records)",
            started.elapsed().as_secs_f64(),
            object.bucket,
            object.key,
            object.summary.records
        ));
    }
    let mut done = done;
    let all_done =
        tokio::time::timeout(DRAIN_TIMEOUT, done.wait_for(|n| *n >= generated.objects)).await;
    if all_done.is_err() {
        progress("the forwarder did not finish in time; summarising what arrived");
    }
    let elapsed = started.elapsed();
    let reports = reports.lock().map(|r| r.clone()).unwrap_or_default();
    let records = emulator.ingest().records();
    let (received, unrecognised) = count_received(&records, &format, &reports);
    let summary = DemoSummary {
        options,
        generated,
        received,
        unrecognised,
        batches: reports.iter().map(|r| r.batches).sum(),
        retries: reports.iter().map(|r| r.retries).sum(),
        dead_letters: reports.iter().map(|r| r.dead_letters).sum(),
        failures: reports.iter().filter_map(|r| r.failure.clone()).collect(),
        elapsed,
    };
    Ok((summary, Running { emulator, state }))
}

/// The traffic: one flow log, default format, 1-minute aggregation, small files.
fn generate_options(options: &DemoOptions) -> GenerateOptions {
    let mut generate = GenerateOptions {
        seed: options.seed,
        duration_secs: options.duration_secs,
        ..GenerateOptions::default()
    };
    generate.service.destination = generator::Destination {
        bucket: DEMO_BUCKET.to_owned(),
        prefix: String::new(),
    };
    generate.service.format = LogFormat::default_format();
    generate.service.aggregation = 60;
    generate.service.rotate_bytes = 256 * 1024;
    generate
}

/// A forwarder pointed at the emulator: its S3, its mock's upload URL and keys, quick retries,
/// state in `state` (a fresh temporary directory).
fn build_forwarder(emulator: &Emulator, state: &std::path::Path) -> Result<Forwarder, DemoError> {
    let mock = emulator.ingest();
    let config = LogTypeConfig::from_json_bytes(
        json!({
            "apiKey": mock.device_key(),
            "logType": mock.log_type(),
            "uploadDomain": "logc.site24x7.com",
            "dateField": "start",
            "dateFormat": "unix",
        })
        .to_string()
        .as_bytes(),
    )?;
    std::fs::create_dir_all(state)?;
    let mut settings = Settings {
        upload_url: Some(mock.upload_url()),
        state: StateLocation::Local(state.to_owned()),
        ..Settings::default()
    };
    settings.upload.retry.initial_backoff = Duration::from_millis(50);
    settings.upload.retry.max_backoff = Duration::from_secs(1);
    Ok(Forwarder::with_s3_client(
        config,
        settings,
        emulator.s3_client(),
    )?)
}

/// What the summary keeps of one object's report.
#[derive(Debug, Clone)]
struct Forwarded {
    batches: u64,
    retries: u64,
    dead_letters: u64,
    failure: Option<String>,
}

impl Forwarded {
    fn of(report: &ObjectReport) -> Self {
        Self {
            batches: report.batches,
            retries: report.retries,
            dead_letters: report.dead_letter_ids.len() as u64,
            failure: report.outcome.is_failure().then(|| report.to_string()),
        }
    }
}

type Reports = Arc<Mutex<Vec<Forwarded>>>;

/// Hands every Lambda notification of the emulated S3 to the forwarder, a few at once, like
/// concurrent Lambda instances; counts objects done.
fn forward_notifications(
    emulator: &Emulator,
    forwarder: Arc<Forwarder>,
    progress: Arc<impl Fn(&str) + Send + Sync + 'static>,
) -> (Reports, watch::Receiver<u64>) {
    let reports: Reports = Arc::default();
    let (done_tx, done_rx) = watch::channel(0u64);
    let notifications = emulator
        .notifications()
        .filter(|n| std::future::ready(matches!(n.destination, Destination::Lambda { .. })));
    let sink = reports.clone();
    tokio::spawn(
        notifications.for_each_concurrent(CONCURRENT_INVOCATIONS, move |notification| {
            let (forwarder, sink, done_tx, progress) = (
                forwarder.clone(),
                sink.clone(),
                done_tx.clone(),
                progress.clone(),
            );
            async move {
                let result = forwarder.handle_event(notification.event).await;
                let objects = match &result {
                    Ok(report) => report.objects.as_slice(),
                    Err(error) => error.report().map_or(&[][..], |r| r.objects.as_slice()),
                };
                for report in objects {
                    progress(&format!("  forwarded {report}"));
                    if let Ok(mut sink) = sink.lock() {
                        sink.push(Forwarded::of(report));
                    }
                }
                if let Err(error) = &result {
                    progress(&format!("  invocation failed: {error}"));
                }
                done_tx.send_modify(|n| *n += objects.len().max(1) as u64);
            }
        }),
    );
    (reports, done_rx)
}

fn add_summary(counts: &mut Counts, s: &generator::ObjectSummary) {
    counts.objects += 1;
    counts.records += s.records;
    add_by(counts, s.by_action, s.by_log_status);
    if let Ok(d) = RecordsDigest::from_hex(&s.records_digest) {
        counts.digest.merge(d);
    }
}

fn add_by(counts: &mut Counts, a: ByAction, s: ByLogStatus) {
    counts.by_action.accept += a.accept;
    counts.by_action.reject += a.reject;
    counts.by_action.none += a.none;
    counts.by_log_status.ok += s.ok;
    counts.by_log_status.nodata += s.nodata;
    counts.by_log_status.skipdata += s.skipdata;
}

/// Counts the mock's records; each is turned back into its flow-log line (fields in the
/// format's order) for the digest. Returns the counts and the records that did not fit.
fn count_received(records: &[Value], format: &LogFormat, reports: &[Forwarded]) -> (Counts, u64) {
    let names: Vec<String> = format
        .fields()
        .iter()
        .map(|f| f.name().replace('-', "_"))
        .collect();
    let mut counts = Counts {
        objects: reports.iter().filter(|r| r.failure.is_none()).count() as u64,
        ..Counts::default()
    };
    let mut unrecognised = 0;
    for record in records {
        let tokens: Option<Vec<&str>> = names
            .iter()
            .map(|n| record.get(n).and_then(Value::as_str))
            .collect();
        let Some(tokens) = tokens else {
            unrecognised += 1;
            continue;
        };
        let field = |n: &str| record.get(n).and_then(Value::as_str).unwrap_or("-");
        let mut one = Counts::default();
        match field("action") {
            "ACCEPT" => one.by_action.accept = 1,
            "REJECT" => one.by_action.reject = 1,
            _ => one.by_action.none = 1,
        }
        match field("log_status") {
            "OK" => one.by_log_status.ok = 1,
            "NODATA" => one.by_log_status.nodata = 1,
            _ => one.by_log_status.skipdata = 1,
        }
        counts.records += 1;
        add_by(&mut counts, one.by_action, one.by_log_status);
        counts.digest.add(line_digest(&tokens));
    }
    (counts, unrecognised)
}

fn human_duration(secs: i64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, m, 0) => format!("{m}m"),
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// The table `flowlog-forwarder demo` prints.
impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (g, r) = (&self.generated, &self.received);
        let secs = self.elapsed.as_secs_f64().max(0.001);
        writeln!(
            f,
            "flowlog demo: {} of simulated VPC Flow Logs (seed {}, {}x), generator -> S3 \
             (emulated) -> forwarder -> Site24x7 (mock)",
            human_duration(self.options.duration_secs),
            self.options.seed,
            self.options.speedup
        )?;
        writeln!(f)?;
        writeln!(f, "{:<22} {:>12} {:>12}", "", "generated", "received")?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, a: u64, b: u64| {
            let mark = if a == b { "" } else { "  <-- differs" };
            writeln!(f, "{name:<22} {a:>12} {b:>12}{mark}")
        };
        row(f, "objects", g.objects, r.objects)?;
        row(f, "records", g.records, r.records)?;
        row(f, "  action ACCEPT", g.by_action.accept, r.by_action.accept)?;
        row(f, "  action REJECT", g.by_action.reject, r.by_action.reject)?;
        row(f, "  action -", g.by_action.none, r.by_action.none)?;
        row(f, "  log-status OK", g.by_log_status.ok, r.by_log_status.ok)?;
        row(
            f,
            "  log-status NODATA",
            g.by_log_status.nodata,
            r.by_log_status.nodata,
        )?;
        row(
            f,
            "  log-status SKIPDATA",
            g.by_log_status.skipdata,
            r.by_log_status.skipdata,
        )?;
        let (gd, rd) = (g.digest.to_hex(), r.digest.to_hex());
        let mark = if gd == rd { "" } else { "  <-- differs" };
        writeln!(f, "{:<22} {gd:>12} {rd:>12}{mark}", "records digest")?;
        writeln!(f)?;
        writeln!(
            f,
            "uploads: {} batches, {} retries (the mock answered 503 to {:.0}% of uploads), {} dead letters",
            self.batches,
            self.retries,
            self.options.fault_rate * 100.0,
            self.dead_letters
        )?;
        #[allow(clippy::cast_precision_loss)]
        let rate = r.records as f64 / secs;
        writeln!(
            f,
            "rate: {rate:.0} records/s received over {secs:.1} s of wall time"
        )?;
        for failure in &self.failures {
            writeln!(f, "failed: {failure}")?;
        }
        if self.unrecognised > 0 {
            writeln!(
                f,
                "records that fit no generated format: {}",
                self.unrecognised
            )?;
        }
        if self.is_match() {
            writeln!(
                f,
                "result: OK, every generated record was received exactly once"
            )
        } else {
            writeln!(f, "result: MISMATCH, generated and received differ")
        }
    }
}
