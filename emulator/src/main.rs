//! `flowlog-emulator`: run the offline testbed as a process.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use flowlog_emulator::Emulator;
use flowlog_emulator::s3::settings::{
    DEFAULT_ACCESS_KEY, DEFAULT_MAX_OBJECT_SIZE, DEFAULT_REGION, DEFAULT_SECRET_KEY,
};

/// Offline testbed for the flow-log forwarder: an in-memory S3 with notifications.
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let emulator = Emulator::builder()
        .s3_addr(args.s3_addr)
        .credentials(args.access_key, args.secret_key)
        .region(args.region)
        .max_object_size(args.max_object_size)
        .start()
        .await
        .context("starting the emulator")?;
    let addresses = serde_json::json!({ "s3": emulator.s3_uri() });
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
