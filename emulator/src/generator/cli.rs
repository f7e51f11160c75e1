//! The `generate` subcommand: flags as in DESIGN.md, turned into [`GenerateOptions`], and the
//! delivery of each object to a directory tree or an S3 endpoint (real S3 without one).

use std::path::PathBuf;

use anyhow::Context as _;
use futures::StreamExt as _;

use super::destination::{Destination, KeyLayout};
use super::fields::{LogFormat, ResourceType};
use super::live::{LiveOptions, live};
use super::manifest::Manifest;
use super::options::{
    FlowLogService, GenerateOptions, TrafficOptions, parse_duration, parse_size, parse_start,
};
use super::output::{S3Target, put_object, s3_client, write_to_dir};
use super::parquet_file::{DEFAULT_ROW_GROUP_ROWS, ParquetOptions};
use super::service::{FlowLogObject, ObjectStream};

/// `flowlog-emulator generate`: VPC (or transit-gateway) flow-log objects under their real S3
/// keys, as gzip text or Parquet.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Seed of all randomness: same seed and options give byte-identical objects and manifest.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated start (RFC 3339). Default: now minus the duration (batch) or now (--live).
    #[arg(long)]
    pub start: Option<String>,
    /// Simulated length: 90s, 5m, 1h, 2h30m, 1d.
    #[arg(long, default_value = "1h")]
    pub duration: String,
    /// What the flow log is created on: vpc, or transit-gateway (traffic between the VPCs
    /// through a transit gateway per region; version 6 fields, no action, 60 s only).
    #[arg(long, default_value = "vpc")]
    pub resource_type: String,
    /// Traffic filter: ALL, ACCEPT or REJECT (transit-gateway logs: ALL only).
    #[arg(long, default_value = "ALL")]
    pub filter: String,
    /// `default` (the resource type's default format) or a custom format such as
    /// '${version} ${srcaddr} ${dstaddr}'.
    #[arg(long, default_value = "default")]
    pub format: String,
    /// File format of the objects: plain-text (gzip, keys ending .log.gz) or parquet (keys
    /// ending .log.parquet).
    #[arg(long, default_value = "plain-text")]
    pub file_format: String,
    /// Page codec of Parquet objects: none, snappy, gzip or zstd.
    #[arg(long, default_value = "gzip")]
    pub parquet_compression: String,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = DEFAULT_ROW_GROUP_ROWS)]
    pub row_group_rows: usize,
    /// Destination ARN with optional subfolder.
    #[arg(long, default_value = "arn:aws:s3:::flowlogs-demo/")]
    pub destination: String,
    /// Hive-compatible S3 prefixes.
    #[arg(long)]
    pub hive: bool,
    /// Hourly partitions.
    #[arg(long)]
    pub hourly: bool,
    /// Aggregation interval in seconds: 60 or 600 (default 600; transit-gateway logs: 60 only,
    /// their default).
    #[arg(long)]
    pub aggregation: Option<u32>,
    /// Start a new file before one exceeds this uncompressed size (e.g. 75MB, 64KiB).
    #[arg(long, default_value = "75MiB")]
    pub rotate_size: String,
    /// gzip level 0-9, of text objects and of Parquet's GZIP pages (3: ~0.7-0.9 M records/s per
    /// core measured for text; 6: ~0.38 M, 6 % smaller).
    #[arg(long, default_value_t = 3)]
    pub gzip_level: u32,
    /// Flow-log owner account (repeat for several flow logs).
    #[arg(long = "account-id", default_value = "123456789012")]
    pub account_ids: Vec<String>,
    /// Region of the flow logs (repeat for several).
    #[arg(long = "region", default_value = "us-east-1")]
    pub regions: Vec<String>,
    /// VPCs per flow log.
    #[arg(long, default_value_t = 2)]
    pub vpcs: u32,
    /// ENIs per VPC (13 gives one of each kind).
    #[arg(long, default_value_t = 13)]
    pub enis_per_vpc: u32,
    /// Traffic rate multiplier (1.0 ≈ 375 records per minute per VPC on average).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Parallel writers of the simulated service (files per window).
    #[arg(long, default_value_t = 2)]
    pub writers: u32,
    /// Write objects to DIR/<bucket>/<key>.
    #[arg(long, conflicts_with = "endpoint_url")]
    pub out: Option<PathBuf>,
    /// PUT objects to this S3 endpoint (path-style). Without it and without --out: real S3.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Create the bucket first (useful with --endpoint-url).
    #[arg(long)]
    pub create_bucket: bool,
    /// Access key for --endpoint-url.
    #[arg(
        long,
        env = "AWS_ACCESS_KEY_ID",
        default_value = "test",
        hide_env_values = true
    )]
    pub access_key_id: String,
    /// Secret key for --endpoint-url (never printed).
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "test",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub secret_access_key: String,
    /// Region used to sign S3 requests.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Write the manifest (ground truth, JSON) here.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Deliver objects in simulated real time instead of as fast as possible.
    #[arg(long)]
    pub live: bool,
    /// With --live: simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
}

impl GenerateArgs {
    /// The library options these flags describe.
    ///
    /// # Errors
    /// The first invalid flag, with the reason and the fix.
    pub fn options(&self) -> anyhow::Result<GenerateOptions> {
        let duration_secs = parse_duration(&self.duration)?;
        let start = match &self.start {
            Some(s) => parse_start(s)?,
            None if self.live => chrono::Utc::now().timestamp(),
            None => chrono::Utc::now().timestamp() - duration_secs,
        };
        let resource_type: ResourceType = self.resource_type.parse()?;
        let aggregation = self.aggregation.unwrap_or(match resource_type {
            ResourceType::Vpc => 600,
            ResourceType::TransitGateway => 60,
        });
        Ok(GenerateOptions {
            seed: self.seed,
            start,
            duration_secs,
            service: FlowLogService {
                resource_type,
                account_ids: self.account_ids.clone(),
                regions: self.regions.clone(),
                filter: self.filter.parse()?,
                format: LogFormat::parse(&self.format)?,
                destination: Destination::parse(&self.destination)?,
                layout: KeyLayout {
                    hive: self.hive,
                    hourly: self.hourly,
                },
                file_format: self.file_format.parse()?,
                parquet: ParquetOptions {
                    compression: self.parquet_compression.parse()?,
                    row_group_rows: self.row_group_rows,
                },
                aggregation,
                rotate_bytes: parse_size(&self.rotate_size)?,
                gzip_level: self.gzip_level,
                writers: self.writers,
            },
            traffic: TrafficOptions {
                vpcs: self.vpcs,
                enis_per_vpc: self.enis_per_vpc,
                rate: self.rate,
            },
        })
    }
}

enum Sink {
    Dir(PathBuf),
    S3(aws_sdk_s3::Client),
}

impl Sink {
    async fn deliver(&self, object: &FlowLogObject) -> anyhow::Result<()> {
        match self {
            Sink::Dir(dir) => write_to_dir(dir, object).map(|_| ())?,
            Sink::S3(client) => put_object(client, object).await?,
        }
        Ok(())
    }
}

/// Runs `generate`: delivers every object, then writes the manifest if asked.
///
/// # Errors
/// Invalid flags, or the first object that could not be written or PUT.
pub async fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let options = args.options()?;
    let sink = match (&args.out, &args.endpoint_url) {
        (Some(dir), _) => Sink::Dir(dir.clone()),
        (None, endpoint_url) => {
            let target = S3Target {
                endpoint_url: endpoint_url.clone(),
                region: args.s3_region.clone(),
                access_key_id: args.access_key_id.clone(),
                secret_access_key: args.secret_access_key.clone(),
            };
            Sink::S3(s3_client(&target).await)
        }
    };
    if let (true, Sink::S3(client)) = (args.create_bucket, &sink) {
        let bucket = &options.service.destination.bucket;
        let created = client.create_bucket().bucket(bucket).send().await;
        if let Err(e) = created {
            let exists = e.as_service_error().is_some_and(|s| {
                s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
            });
            if !exists {
                return Err(anyhow::anyhow!(
                    "cannot create bucket {bucket}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                ));
            }
        }
    }
    let stream = ObjectStream::new(&options)?;
    let manifest_options = stream.manifest_options();
    let mut summaries = Vec::new();
    if args.live {
        let objects = live(
            &options,
            LiveOptions {
                speedup: args.speedup,
            },
        )?;
        futures::pin_mut!(objects);
        while let Some(object) = objects.next().await {
            sink.deliver(&object).await?;
            eprintln!(
                "delivered s3://{}/{} ({} records)",
                object.bucket, object.key, object.summary.records
            );
            summaries.push(object.summary);
        }
    } else {
        for object in stream {
            sink.deliver(&object).await?;
            summaries.push(object.summary);
        }
    }
    let manifest = Manifest::new(options.seed, manifest_options, summaries);
    if let Some(path) = &args.manifest {
        std::fs::write(path, manifest.to_json())
            .with_context(|| format!("cannot write the manifest {}", path.display()))?;
    }
    eprintln!(
        "generated {} {} objects, {} records ({} bytes) from {} for {} s",
        manifest.totals.objects,
        manifest.options.file_format,
        manifest.totals.records,
        manifest.totals.gzip_bytes,
        manifest.options.start,
        manifest.options.duration_secs
    );
    Ok(())
}
