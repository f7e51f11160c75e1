//! `flowlog-forwarder`: command-line entry point (flags → library calls, nothing more).

use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use flowlog_forwarder::{BatchLimits, LogTypeConfig, ObjectContext, dry_run};

/// Forwards AWS VPC Flow Logs from S3 to Site24x7 AppLogs.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Dry run, no network: print the records that would be uploaded (NDJSON on stdout) and an
    /// accounting summary (stderr). Reads gzip (by magic bytes) or plain text.
    Parse(ParseArgs),
}

#[derive(Debug, clap::Args)]
struct ParseArgs {
    /// logTypeConfig as a JSON file or a file holding its base64 (default: the `logTypeConfig`
    /// environment variable, else a built-in Site24x7-style VPC Flow Logs profile).
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
    /// Bucket name: each record's `s247agentuid`.
    #[arg(long, default_value = "local")]
    bucket: String,
    /// S3 key used for `configTypes` (default: FILE as given).
    #[arg(long)]
    key: Option<String>,
    /// The flow-log file, or `-` for stdin.
    file: PathBuf,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Parse(args) => parse(args),
    }
}

fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let config = match (&args.config, &args.log_type_config) {
        (Some(path), _) => LogTypeConfig::from_file(path)?,
        (None, Some(value)) => {
            LogTypeConfig::from_env_value(value).context("environment variable logTypeConfig")?
        }
        (None, None) => LogTypeConfig::builtin_vpc(),
    };
    let key = args.key.unwrap_or_else(|| args.file.display().to_string());
    let ctx = ObjectContext::now(args.bucket, key);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let summary = if args.file.as_os_str() == "-" {
        dry_run(
            &config,
            ctx,
            io::stdin().lock(),
            BatchLimits::default(),
            &mut out,
        )?
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let input = BufReader::with_capacity(256 * 1024, file);
        dry_run(&config, ctx, input, BatchLimits::default(), &mut out)?
    };
    eprintln!("{summary}");
    Ok(if summary.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
