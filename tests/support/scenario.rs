//! Traffic for the end-to-end tests: several flow logs (formats whose field sets differ, both
//! filters, every key layout) generated in memory, then PUT into an S3 (the emulator or moto).

use aws_sdk_s3::primitives::ByteStream;
use flowlog_emulator::generator::{
    CATALOGUE, Destination, FileFormat, Filter, FlowLogObject, GenerateOptions, Generated,
    KeyLayout, LogFormat, ParquetOptions, ResourceType, TRANSIT_GATEWAY_DEFAULT_FORMAT, generate,
};

use crate::ground_truth::GroundTruth;

/// A version 5 custom format (the AWS documentation's example fields).
pub const V5_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} \
${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} \
${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} \
${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} \
${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";

/// Every field the generator knows, in catalogue order.
#[must_use]
pub fn all_fields_format() -> String {
    CATALOGUE
        .iter()
        .map(|(_, name, _)| format!("${{{name}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One flow log to simulate.
#[derive(Debug, Clone)]
pub struct FlowLogRun {
    /// Seed.
    pub seed: u64,
    /// `default` or a `${…}` format.
    pub format: String,
    /// ALL, ACCEPT or REJECT.
    pub filter: Filter,
    /// Hive / hourly key layout.
    pub layout: KeyLayout,
    /// Destination bucket.
    pub bucket: String,
    /// Destination subfolder (`""` or ending in `/`).
    pub prefix: String,
    /// Simulated seconds.
    pub duration_secs: i64,
    /// Traffic multiplier.
    pub rate: f64,
    /// Rotation size (small values give more, smaller objects).
    pub rotate_bytes: u64,
    /// Plain text (gzip) or Parquet.
    pub file_format: FileFormat,
    /// VPC or transit-gateway flow log (`format` "default" is then the transit-gateway one).
    pub resource_type: ResourceType,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl Default for FlowLogRun {
    fn default() -> Self {
        Self {
            seed: 1,
            format: "default".into(),
            filter: Filter::All,
            layout: KeyLayout::default(),
            bucket: "flow-logs".into(),
            prefix: String::new(),
            duration_secs: 30 * 60,
            rate: 0.5,
            rotate_bytes: 256 * 1024,
            file_format: FileFormat::PlainText,
            resource_type: ResourceType::Vpc,
            row_group_rows: ParquetOptions::default().row_group_rows,
        }
    }
}

impl FlowLogRun {
    /// The generator's options for this run.
    ///
    /// # Errors
    /// When the format is invalid.
    pub fn options(&self) -> anyhow::Result<GenerateOptions> {
        let mut options = GenerateOptions {
            seed: self.seed,
            duration_secs: self.duration_secs,
            ..GenerateOptions::default()
        };
        let service = &mut options.service;
        let transit = self.resource_type == ResourceType::TransitGateway;
        service.resource_type = self.resource_type;
        service.format = match self.format.as_str() {
            "default" if transit => LogFormat::parse(TRANSIT_GATEWAY_DEFAULT_FORMAT)?,
            format => LogFormat::parse(format)?,
        };
        service.file_format = self.file_format;
        service.parquet.row_group_rows = self.row_group_rows;
        service.filter = self.filter;
        service.layout = self.layout;
        service.destination = Destination {
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
        };
        service.rotate_bytes = self.rotate_bytes;
        service.aggregation = 60;
        options.traffic.rate = self.rate;
        // Transit-gateway traffic runs between VPCs.
        options.traffic.vpcs = if transit { 2 } else { 1 };
        Ok(options)
    }

    /// Generates the run in memory.
    ///
    /// # Errors
    /// When the options are invalid.
    pub fn generate(&self) -> anyhow::Result<Generated> {
        Ok(generate(&self.options()?)?)
    }
}

/// The mixed traffic of the ground-truth tests into `bucket`: default format (ALL, plain
/// keys), v5 custom (ACCEPT, Hive keys), every field (REJECT, hourly keys), default again (ALL,
/// Hive + hourly, another seed; same fields as the first, which is fine: identical field sets
/// only need identical order). The last object of the first run is renamed so its key holds a
/// space. `minutes` is the simulated length of each run.
#[must_use]
pub fn mixed_runs(bucket: &str, minutes: i64) -> Vec<FlowLogRun> {
    let base = FlowLogRun {
        bucket: bucket.to_owned(),
        duration_secs: minutes * 60,
        ..FlowLogRun::default()
    };
    vec![
        FlowLogRun {
            seed: 11,
            ..base.clone()
        },
        FlowLogRun {
            seed: 12,
            format: V5_FORMAT.into(),
            filter: Filter::Accept,
            layout: KeyLayout {
                hive: true,
                hourly: false,
            },
            ..base.clone()
        },
        FlowLogRun {
            seed: 13,
            format: all_fields_format(),
            filter: Filter::Reject,
            layout: KeyLayout {
                hive: false,
                hourly: true,
            },
            prefix: "team a/".into(),
            ..base.clone()
        },
        FlowLogRun {
            seed: 14,
            layout: KeyLayout {
                hive: true,
                hourly: true,
            },
            ..base
        },
    ]
}

/// [`mixed_runs`] and every other kind of object AWS writes flow logs in: VPC logs as Parquet
/// (small row groups), transit-gateway logs as gzip text and as Parquet.
#[must_use]
pub fn every_kind_of_run(bucket: &str, minutes: i64) -> Vec<FlowLogRun> {
    let base = FlowLogRun {
        bucket: bucket.to_owned(),
        duration_secs: minutes * 60,
        ..FlowLogRun::default()
    };
    let mut runs = mixed_runs(bucket, minutes);
    runs.extend([
        FlowLogRun {
            seed: 21,
            format: V5_FORMAT.into(),
            file_format: FileFormat::Parquet,
            row_group_rows: 100,
            layout: KeyLayout {
                hive: true,
                hourly: true,
            },
            ..base.clone()
        },
        FlowLogRun {
            seed: 22,
            resource_type: ResourceType::TransitGateway,
            ..base.clone()
        },
        FlowLogRun {
            seed: 23,
            resource_type: ResourceType::TransitGateway,
            file_format: FileFormat::Parquet,
            row_group_rows: 250,
            layout: KeyLayout {
                hive: true,
                hourly: false,
            },
            ..base
        },
    ]);
    runs
}

/// Generated traffic: every object (in delivery order per run) and its ground truth.
#[derive(Debug)]
pub struct Traffic {
    /// Every object, run after run.
    pub objects: Vec<FlowLogObject>,
    /// What the receiver must end up with.
    pub truth: GroundTruth,
}

impl Traffic {
    /// Generates `runs`; the first object whose key has no space gets one (`… copy.log.gz`) so
    /// every scenario has a key that must be form-decoded.
    ///
    /// # Errors
    /// When a run's options are invalid.
    pub fn generate(runs: &[FlowLogRun]) -> anyhow::Result<Self> {
        let mut truth = GroundTruth::new();
        let mut objects = Vec::new();
        for run in runs {
            let generated = run.generate()?;
            truth.add_run(&generated)?;
            objects.extend(generated.objects);
        }
        if !objects.iter().any(|o| o.key.contains(' '))
            && let Some(first) = objects.first_mut()
        {
            first.key = first.key.replace(".log.gz", " copy.log.gz");
            first.summary.key.clone_from(&first.key);
        }
        Ok(Self { objects, truth })
    }

    /// Distinct buckets the objects go to.
    #[must_use]
    pub fn buckets(&self) -> Vec<String> {
        let mut buckets: Vec<String> = self.objects.iter().map(|o| o.bucket.clone()).collect();
        buckets.sort();
        buckets.dedup();
        buckets
    }

    /// `(bucket, key)` of every object.
    #[must_use]
    pub fn keys(&self) -> Vec<(String, String)> {
        self.objects
            .iter()
            .map(|o| (o.bucket.clone(), o.key.clone()))
            .collect()
    }
}

/// PUTs every object into `client`'s S3.
///
/// # Errors
/// With the bucket, key and the SDK's message.
pub async fn put_all(client: &aws_sdk_s3::Client, objects: &[FlowLogObject]) -> anyhow::Result<()> {
    for object in objects {
        put_bytes(client, &object.bucket, &object.key, object.body.to_vec()).await?;
    }
    Ok(())
}

/// PUTs one body.
///
/// # Errors
/// With the bucket, key and the SDK's message.
pub async fn put_bytes(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "PUT s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })?;
    Ok(())
}
