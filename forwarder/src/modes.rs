//! The binary's `forward`, `backfill`, `replay` and `lambda` subcommands: flags → settings →
//! library calls (part of `main.rs`, not of the library).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use flowlog_forwarder::settings::{parse_s3_object_url, parse_s3_prefix_url};
use flowlog_forwarder::source::S3Settings;
use flowlog_forwarder::{Forwarder, LogTypeConfig, ObjectReport, Secret, Settings, StateLocation};

/// Flags shared by every mode that talks to S3 and Site24x7.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// logTypeConfig as a JSON file or a file holding its base64 (default: the `logTypeConfig`
    /// environment variable).
    #[arg(long)]
    config: Option<PathBuf>,
    /// `logTypeConfig` (base64), as Site24x7 issues it.
    #[arg(
        long = "log-type-config",
        env = "logTypeConfig",
        hide_env_values = true,
        hide = true
    )]
    log_type_config: Option<String>,
    /// S3 endpoint of a testbed (emulator, moto). Without it: real AWS, default credential chain.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Region (default: us-east-1 with --endpoint-url, else the AWS default chain).
    #[arg(long)]
    region: Option<String>,
    /// Access key for --endpoint-url (default: AWS_ACCESS_KEY_ID).
    #[arg(long, alias = "access-key-id")]
    access_key: Option<String>,
    /// Secret key for --endpoint-url (default: AWS_SECRET_ACCESS_KEY).
    #[arg(long, alias = "secret-access-key", hide_env_values = true)]
    secret_key: Option<String>,
    /// Upload URL instead of `https://{uploadDomain}/upload` (testbed).
    #[arg(long)]
    upload_url: Option<String>,
    /// Directory for dead letters and progress markers (default: ./flowlog-state).
    #[arg(long, conflicts_with = "state_s3")]
    state_dir: Option<PathBuf>,
    /// Keep dead letters and progress markers in S3 instead: `s3://BUCKET/PREFIX`.
    #[arg(long)]
    state_s3: Option<String>,
    /// Requests per batch before it is dead-lettered.
    #[arg(long, default_value_t = 10)]
    upload_max_attempts: u32,
    /// Cap of the first retry wait, in milliseconds (doubles per retry, full jitter).
    #[arg(long, default_value_t = 100)]
    upload_backoff_ms: u64,
    /// Largest computed retry wait, in milliseconds (a Retry-After may exceed it).
    #[arg(long, default_value_t = 30_000)]
    upload_max_backoff_ms: u64,
    /// Batches of one object uploading at once.
    #[arg(long, default_value_t = 4)]
    uploads_in_flight: usize,
    /// Gzip level of upload bodies, 0 (store) to 12 (smallest, slowest).
    #[arg(long, env = "FLOWLOG_GZIP_LEVEL", default_value_t = flowlog_forwarder::batch::DEFAULT_GZIP_LEVEL,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(flowlog_forwarder::batch::MAX_GZIP_LEVEL)))]
    gzip_level: u32,
}

impl CommonArgs {
    fn config(&self) -> anyhow::Result<LogTypeConfig> {
        match (&self.config, &self.log_type_config) {
            (Some(path), _) => Ok(LogTypeConfig::from_file(path)?),
            (None, Some(value)) => {
                LogTypeConfig::from_env_value(value).context("environment variable logTypeConfig")
            }
            (None, None) => bail!(
                "no logTypeConfig: pass --config FILE or set the logTypeConfig environment \
                 variable to the value Site24x7 shows for the log profile"
            ),
        }
    }

    fn settings(&self, jobs: usize) -> anyhow::Result<Settings> {
        let mut settings = Settings {
            upload_url: self.upload_url.clone(),
            s3: S3Settings {
                endpoint_url: self.endpoint_url.clone(),
                region: self.region.clone(),
                access_key_id: self.access_key.clone(),
                secret_access_key: self.secret_key.clone().map(Secret::new),
                force_path_style: self.endpoint_url.is_some(),
            },
            object_concurrency: jobs.max(1),
            uploads_in_flight: self.uploads_in_flight.max(1),
            ..Settings::default()
        };
        settings.batch.gzip_level = self.gzip_level;
        settings.state = match (&self.state_dir, &self.state_s3) {
            (_, Some(url)) => StateLocation::parse_s3_url(url)?,
            (Some(dir), None) => StateLocation::Local(dir.clone()),
            (None, None) => settings.state,
        };
        let retry = &mut settings.upload.retry;
        retry.max_attempts = self.upload_max_attempts.max(1);
        retry.initial_backoff = Duration::from_millis(self.upload_backoff_ms);
        retry.max_backoff = Duration::from_millis(self.upload_max_backoff_ms);
        Ok(settings)
    }

    fn forwarder(
        &self,
        jobs: usize,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Forwarder> {
        let config = self.config()?;
        let settings = self.settings(jobs)?;
        Ok(runtime.block_on(Forwarder::new(config, settings))?)
    }
}

/// `forward` flags.
#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Objects forwarded at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// The objects: `s3://BUCKET/KEY` (the key as stored, not URL-encoded).
    #[arg(required = true, value_name = "s3://BUCKET/KEY")]
    objects: Vec<String>,
}

/// `backfill` flags.
#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Objects forwarded at once.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// What to list: `s3://BUCKET/PREFIX` (an empty prefix lists the whole bucket).
    #[arg(value_name = "s3://BUCKET/PREFIX")]
    prefix: String,
}

/// `replay` flags.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    common: CommonArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Warnings (and `RUST_LOG`) on stderr for the command-line modes.
pub fn init_cli_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn exit_code(reports: &[ObjectReport]) -> ExitCode {
    if reports.iter().any(|r| r.outcome.is_failure()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `forward s3://BUCKET/KEY…`
pub fn forward(args: ForwardArgs) -> anyhow::Result<ExitCode> {
    init_cli_logging();
    let objects = args
        .objects
        .iter()
        .map(|url| parse_s3_object_url(url))
        .collect::<Result<Vec<_>, _>>()?;
    let runtime = runtime()?;
    let forwarder = args.common.forwarder(args.jobs, &runtime)?;
    let reports = runtime.block_on(forwarder.forward_all(objects, |r| eprintln!("{r}")));
    Ok(exit_code(&reports))
}

/// `backfill s3://BUCKET/PREFIX`
pub fn backfill(args: BackfillArgs) -> anyhow::Result<ExitCode> {
    init_cli_logging();
    let (bucket, prefix) = parse_s3_prefix_url(&args.prefix)?;
    let runtime = runtime()?;
    let forwarder = args.common.forwarder(args.jobs, &runtime)?;
    let keys = runtime.block_on(forwarder.list_keys(&bucket, &prefix))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(keys.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} objects {elapsed} eta {eta} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let objects = keys.into_iter().map(|k| (bucket.clone(), k)).collect();
    let reports = runtime.block_on(forwarder.forward_all(objects, |r| {
        if r.outcome.is_failure() {
            bar.suspend(|| eprintln!("{r}"));
        }
        bar.inc(1);
    }));
    bar.finish_and_clear();
    let failed = reports.iter().filter(|r| r.outcome.is_failure()).count();
    let sum = |f: fn(&ObjectReport) -> u64| reports.iter().map(f).sum::<u64>();
    eprintln!(
        "backfill s3://{bucket}/{prefix}: objects={} failed={failed} lines={} records_sent={} \
         filtered={} unparsable={} dead_lettered={} resumed={} retries={} bytes_in={} bytes_out={}",
        reports.len(),
        sum(|r| r.lines),
        sum(|r| r.records_sent),
        sum(|r| r.filtered),
        sum(|r| r.unparsable),
        sum(|r| r.dead_lettered_records),
        sum(|r| r.resumed_lines),
        sum(|r| r.retries),
        sum(|r| r.bytes_in),
        sum(|r| r.bytes_out),
    );
    Ok(exit_code(&reports))
}

/// `replay`
pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    init_cli_logging();
    let runtime = runtime()?;
    let forwarder = args.common.forwarder(1, &runtime)?;
    let store = forwarder.dead_letter_store("");
    let report = runtime.block_on(forwarder.replay(&store))?;
    for (id, problem) in &report.problems {
        eprintln!("dead letter {id}: {problem}");
    }
    println!(
        "replayed={} failed={} remaining={}",
        report.replayed, report.failed, report.remaining
    );
    Ok(if report.failed > 0 || report.remaining > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `lambda` (and `bootstrap`): the runtime loop; a setup problem is one clear line, exit 2.
pub fn lambda() -> ExitCode {
    let result = runtime().map_err(|e| e.to_string()).and_then(|rt| {
        rt.block_on(flowlog_forwarder::lambda::run_from_env())
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
