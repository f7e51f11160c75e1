//! `flowlog-forwarder`: command-line entry point (flags → library calls, nothing more).

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use flowlog_forwarder::{BatchLimits, Input, LogTypeConfig, ObjectContext, dry_run};

mod modes;
use modes::{BackfillArgs, ForwardArgs, ReplayArgs};

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
    /// Forward objects now: `s3://BUCKET/KEY…`; one summary line per object on stderr.
    Forward(ForwardArgs),
    /// List `s3://BUCKET/PREFIX` and forward every object, several at once, with progress.
    Backfill(BackfillArgs),
    /// Re-send dead letters with the current config's apiKey; delete each once accepted.
    Replay(ReplayArgs),
    /// The AWS Lambda custom runtime loop (configuration from the environment).
    Lambda,
    /// Offline: emulator in process, live generated traffic, forwarding, generated-vs-received
    /// summary (exit status 1 when they differ).
    #[cfg(feature = "demo")]
    Demo(flowlog_forwarder::demo::DemoArgs),
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
    /// Skip compressing the batches (the summary then has no `gzip_bytes`): the parser alone.
    #[arg(long)]
    no_compress: bool,
    /// The flow-log file, or `-` for stdin.
    file: PathBuf,
}

fn main() -> ExitCode {
    if lambda_by_default() {
        return modes::lambda();
    }
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_line(&error));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each said once: a cause whose text the message
/// already holds (error types often quote their source) is not repeated.
fn error_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Started as `bootstrap` (Lambda's custom runtime name), or with no arguments while
/// `AWS_LAMBDA_RUNTIME_API` is set.
fn lambda_by_default() -> bool {
    let mut args = std::env::args_os();
    let is_bootstrap = args
        .next()
        .and_then(|a| PathBuf::from(a).file_name().map(|n| n == "bootstrap"))
        .unwrap_or(false);
    let no_args = args.next().is_none();
    is_bootstrap || (no_args && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Parse(args) => parse(args),
        Command::Forward(args) => modes::forward(args),
        Command::Backfill(args) => modes::backfill(args),
        Command::Replay(args) => modes::replay(args),
        Command::Lambda => Ok(modes::lambda()),
        #[cfg(feature = "demo")]
        Command::Demo(args) => Ok(flowlog_forwarder::demo::run_cli(&args)?),
    }
}

fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    // A configuration that cannot work as meant (a dateField no record has) warns on stderr.
    modes::init_cli_logging();
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
    let limits = BatchLimits::default();
    let compress = !args.no_compress;
    let summary = if args.file.as_os_str() == "-" {
        let input = Input::Stream(io::stdin().lock());
        dry_run(&config, ctx, input, limits, compress, &mut out)?
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        dry_run(&config, ctx, Input::file(file), limits, compress, &mut out)?
    };
    eprintln!("{summary}");
    Ok(if summary.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
