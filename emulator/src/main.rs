//! `flowlog-emulator`: run the offline testbed as a process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use flowlog_emulator::s3::settings::{
    DEFAULT_ACCESS_KEY, DEFAULT_MAX_OBJECT_SIZE, DEFAULT_REGION, DEFAULT_SECRET_KEY,
};
use flowlog_emulator::{Emulator, ingest, runtime_api};

/// Offline testbed for the flow-log forwarder: an in-memory S3 with notifications, a Lambda
/// Runtime API that S3 notifications invoke, and a mock Site24x7 upload endpoint.
#[derive(Debug, Parser)]
#[command(name = "flowlog-emulator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the emulated services until SIGINT/SIGTERM; prints one JSON line of addresses first.
    Serve(ServeArgs),
    /// Generate flow-log objects like the VPC Flow Logs service: to a directory, an S3
    /// endpoint (e.g. the emulator's) or real S3, with an optional ground-truth manifest.
    Generate(flowlog_emulator::generator::cli::GenerateArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address of the emulated S3 (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    s3_addr: SocketAddr,

    /// Access key id that SigV4 requests must be signed with.
    #[arg(long, env = "FLOWLOG_EMULATOR_ACCESS_KEY", default_value = DEFAULT_ACCESS_KEY, value_name = "KEY")]
    access_key: String,

    /// Secret key matching --access-key (never printed).
    #[arg(long, env = "FLOWLOG_EMULATOR_SECRET_KEY", default_value = DEFAULT_SECRET_KEY, value_name = "SECRET", hide_default_value = false)]
    secret_key: String,

    /// Region of every bucket and event record.
    #[arg(long, default_value = DEFAULT_REGION, value_name = "REGION")]
    region: String,

    /// Largest object accepted, in bytes; larger uploads fail with EntityTooLarge.
    #[arg(long, default_value_t = DEFAULT_MAX_OBJECT_SIZE, value_name = "BYTES")]
    max_object_size: u64,

    /// Milliseconds the S3 waits before answering each request (real S3: tens of ms to first
    /// byte); 0 answers at once.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    s3_latency_ms: u64,

    /// Address of the mock Site24x7 upload endpoint (POST /upload, /_emulator/*).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    ingest_addr: SocketAddr,

    /// Device key the mock Site24x7 accepts (X-DeviceKey); others get 400 invalid_account.
    #[arg(long, env = "FLOWLOG_EMULATOR_DEVICE_KEY", default_value = ingest::DEFAULT_DEVICE_KEY, value_name = "KEY")]
    device_key: String,

    /// Log type the mock Site24x7 accepts (X-LogType); others get 400 invalid_logtype.
    #[arg(long, default_value = ingest::DEFAULT_LOG_TYPE, value_name = "TYPE")]
    log_type: String,

    /// Make the mock Site24x7 a cheap sink for benchmarks: uploads are checked (headers, gzip
    /// magic) and answered but not decompressed or kept (`/_emulator/records` stays empty).
    #[arg(long)]
    discard_uploads: bool,

    /// Address of the Lambda Runtime API (the function's AWS_LAMBDA_RUNTIME_API).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    lambda_runtime_addr: SocketAddr,

    /// Name of the emulated function that S3 notifications invoke.
    #[arg(long, default_value = runtime_api::DEFAULT_FUNCTION_NAME, value_name = "NAME")]
    function_name: String,

    /// Function timeout in seconds: an invocation running longer counts as failed.
    #[arg(long, default_value_t = runtime_api::DEFAULT_TIMEOUT.as_secs(), value_name = "SECONDS")]
    function_timeout: u64,

    /// Delays before the two asynchronous-invoke retries, in seconds (AWS: about 60 and 120).
    #[arg(long, value_delimiter = ',', default_values_t = [60.0, 120.0], value_name = "SECONDS,SECONDS")]
    retry_delays: Vec<f64>,

    /// Retries after a failed invocation, 0 to 2 (Lambda's MaximumRetryAttempts).
    #[arg(long, default_value_t = 2, value_name = "N")]
    max_retry_attempts: u8,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn".into())
                // s3s logs a malformed XML body whole at ERROR; the server logs a bounded
                // excerpt instead.
                .add_directive("s3s::http::de=off".parse()?),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Generate(args) => flowlog_emulator::generator::cli::run(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let retry_delays = args
        .retry_delays
        .iter()
        .map(|s| Duration::try_from_secs_f64(*s))
        .collect::<Result<Vec<_>, _>>()
        .context("--retry-delays takes non-negative seconds, e.g. 60,120")?;
    let emulator = Emulator::builder()
        .s3_addr(args.s3_addr)
        .credentials(args.access_key, args.secret_key)
        .region(args.region)
        .max_object_size(args.max_object_size)
        .s3_latency(std::time::Duration::from_millis(args.s3_latency_ms))
        .ingest(|mock| {
            let mock = mock
                .bind(args.ingest_addr)
                .device_key(args.device_key)
                .log_type(args.log_type);
            if args.discard_uploads {
                mock.discard_bodies()
            } else {
                mock
            }
        })
        .lambda_runtime(|lambda| {
            lambda
                .bind(args.lambda_runtime_addr)
                .function_name(args.function_name)
                .timeout(Duration::from_secs(args.function_timeout))
                .retry_delays(retry_delays)
                .max_retry_attempts(args.max_retry_attempts)
        })
        .start()
        .await
        .context("starting the emulator")?;
    let addresses = serde_json::json!({
        "s3": emulator.s3_uri(),
        "ingest": emulator.ingest().uri(),
        "lambda_runtime": emulator.lambda_runtime().addr(),
    });
    println!("{addresses}");
    wait_for_signal().await?;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT"),
        _ = term.recv() => Ok(()),
    }
}
