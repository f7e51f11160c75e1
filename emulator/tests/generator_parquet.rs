//! Parquet objects: read back with the parquet crate's own reader they hold exactly the values
//! of the text lines of the same traffic (null ↔ `-`), with AWS's column names and types, in
//! several row groups, with each codec; the manifest is the text run's but for keys and sizes.

mod generator_support;

use std::collections::BTreeSet;

use anyhow::{Context as _, ensure};
use bytes::Bytes;
use clap::Parser;
use flowlog_emulator::generator::cli::{GenerateArgs, run};
use flowlog_emulator::generator::{
    FileFormat, FlowLogService, GenerateOptions, Generated, KeyLayout, LogFormat, Manifest,
    ParquetCompression, ParquetOptions, RecordsDigest, generate, line_digest, object_text,
};
use generator_support::gunzip;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::file::reader::FileReader as _;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::record::Field;

const ALL_VPC_FIELDS: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path} ${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}";

/// A Parquet file as an independent reader sees it.
struct Read {
    columns: Vec<(String, PhysicalType, Option<LogicalType>, Repetition)>,
    row_groups: usize,
    codecs: BTreeSet<String>,
    rows: Vec<Vec<String>>,
}

fn read_parquet(body: &Bytes) -> anyhow::Result<Read> {
    let reader = SerializedFileReader::new(body.clone()).context("open Parquet")?;
    let metadata = reader.metadata();
    let columns = metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            let t = c.self_type();
            let info = t.get_basic_info();
            (
                c.name().to_owned(),
                c.physical_type(),
                info.logical_type_ref().cloned(),
                info.repetition(),
            )
        })
        .collect();
    let mut codecs = BTreeSet::new();
    for group in metadata.row_groups() {
        for column in group.columns() {
            codecs.insert(match column.compression() {
                Compression::UNCOMPRESSED => "none".to_owned(),
                Compression::SNAPPY => "snappy".to_owned(),
                Compression::GZIP(_) => "gzip".to_owned(),
                Compression::ZSTD(_) => "zstd".to_owned(),
                other => format!("{other:?}"),
            });
        }
    }
    let mut rows = Vec::new();
    for row in reader.get_row_iter(None)? {
        let row = row?;
        let tokens = row
            .get_column_iter()
            .map(|(name, value)| match value {
                Field::Null => Ok("-".to_owned()),
                Field::Int(v) => Ok(v.to_string()),
                Field::Long(v) => Ok(v.to_string()),
                Field::Str(v) if v == "-" => Err(anyhow::anyhow!("{name} holds `-`, not a null")),
                Field::Str(v) => Ok(v.clone()),
                other => Err(anyhow::anyhow!("{name} holds {other:?}")),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        rows.push(tokens);
    }
    Ok(Read {
        columns,
        row_groups: metadata.num_row_groups(),
        codecs,
        rows,
    })
}

fn pair(mut options: GenerateOptions) -> anyhow::Result<(Generated, Generated)> {
    options.service.file_format = FileFormat::PlainText;
    let text = generate(&options)?;
    options.service.file_format = FileFormat::Parquet;
    let parquet = generate(&options)?;
    ensure!(
        text.objects.len() == parquet.objects.len(),
        "{} text objects, {} Parquet",
        text.objects.len(),
        parquet.objects.len()
    );
    Ok((text, parquet))
}

/// Checks every Parquet object against its text twin; returns the most row groups in a file.
fn check_twins(
    text: &Generated,
    parquet: &Generated,
    types: &[(&str, PhysicalType)],
    codec: &str,
) -> anyhow::Result<usize> {
    let mut most_groups = 0;
    for (t, p) in text.objects.iter().zip(&parquet.objects) {
        ensure!(
            p.key == t.key.replace(".log.gz", ".log.parquet") && p.key.ends_with(".log.parquet"),
            "{} beside {}",
            p.key,
            t.key
        );
        ensure!(p.body.starts_with(b"PAR1"), "{} is not Parquet", p.key);
        let read = read_parquet(&p.body).with_context(|| p.key.clone())?;
        let text_body = gunzip(&t.body)?;
        let mut lines = text_body.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split(' ')
            .map(|f| f.replace('-', "_"))
            .collect();
        let names: Vec<String> = read.columns.iter().map(|c| c.0.clone()).collect();
        ensure!(names == header, "{}: columns {names:?}", p.key);
        for (name, physical, logical, repetition) in &read.columns {
            ensure!(
                *repetition == Repetition::OPTIONAL,
                "{name} is {repetition:?}"
            );
            let expected = types
                .iter()
                .find(|(n, _)| n == name)
                .map_or(PhysicalType::BYTE_ARRAY, |(_, t)| *t);
            ensure!(
                *physical == expected,
                "{name} is {physical:?}, not {expected:?}"
            );
            if expected == PhysicalType::BYTE_ARRAY {
                ensure!(
                    *logical == Some(LogicalType::String),
                    "{name} has logical type {logical:?}"
                );
            }
        }
        let expected_rows: Vec<Vec<String>> = lines
            .map(|l| l.split(' ').map(str::to_owned).collect())
            .collect();
        ensure!(
            read.rows.len() == expected_rows.len(),
            "{}: {} rows, {} lines",
            p.key,
            read.rows.len(),
            expected_rows.len()
        );
        for (i, (row, line)) in read.rows.iter().zip(&expected_rows).enumerate() {
            ensure!(row == line, "{} row {i}: {row:?} != {line:?}", p.key);
        }
        ensure!(
            read.codecs == BTreeSet::from([codec.to_owned()]),
            "{}: codecs {:?}",
            p.key,
            read.codecs
        );
        most_groups = most_groups.max(read.row_groups);
    }
    Ok(most_groups)
}

const VPC_TYPES: &[(&str, PhysicalType)] = &[
    ("version", PhysicalType::INT32),
    ("srcport", PhysicalType::INT32),
    ("dstport", PhysicalType::INT32),
    ("protocol", PhysicalType::INT32),
    ("tcp_flags", PhysicalType::INT32),
    ("traffic_path", PhysicalType::INT32),
    ("packets", PhysicalType::INT64),
    ("bytes", PhysicalType::INT64),
    ("start", PhysicalType::INT64),
    ("end", PhysicalType::INT64),
];

const TGW_TYPES: &[(&str, PhysicalType)] = &[
    ("version", PhysicalType::INT32),
    ("srcport", PhysicalType::INT32),
    ("dstport", PhysicalType::INT32),
    ("protocol", PhysicalType::INT64),
    ("tcp_flags", PhysicalType::INT32),
    ("packets", PhysicalType::INT64),
    ("bytes", PhysicalType::INT64),
    ("start", PhysicalType::INT64),
    ("end", PhysicalType::INT64),
    ("packets_lost_no_route", PhysicalType::INT64),
    ("packets_lost_blackhole", PhysicalType::INT64),
    ("packets_lost_mtu_exceeded", PhysicalType::INT64),
    ("packets_lost_ttl_expired", PhysicalType::INT64),
];

fn vpc_options(codec: ParquetCompression) -> anyhow::Result<GenerateOptions> {
    let mut o = GenerateOptions {
        seed: 23,
        duration_secs: 15 * 60,
        ..GenerateOptions::default()
    };
    o.service.format = LogFormat::parse(ALL_VPC_FIELDS)?;
    o.service.aggregation = 60;
    o.service.parquet = ParquetOptions {
        compression: codec,
        row_group_rows: 500,
    };
    Ok(o)
}

#[test]
fn parquet_rows_hold_the_text_lines_values_for_every_codec() -> anyhow::Result<()> {
    for (codec, name) in [
        (ParquetCompression::None, "none"),
        (ParquetCompression::Snappy, "snappy"),
        (ParquetCompression::Gzip, "gzip"),
        (ParquetCompression::Zstd, "zstd"),
    ] {
        let (text, parquet) = pair(vpc_options(codec)?)?;
        let groups = check_twins(&text, &parquet, VPC_TYPES, name)?;
        ensure!(groups >= 3, "{name}: at most {groups} row groups in a file");
    }
    Ok(())
}

#[test]
fn transit_gateway_parquet_types_protocol_and_the_loss_counters_as_int64() -> anyhow::Result<()> {
    let o = GenerateOptions {
        seed: 29,
        duration_secs: 20 * 60,
        service: FlowLogService {
            parquet: ParquetOptions {
                compression: ParquetCompression::Gzip,
                row_group_rows: 100,
            },
            ..FlowLogService::transit_gateway()
        },
        ..GenerateOptions::default()
    };
    let (text, parquet) = pair(o)?;
    let groups = check_twins(&text, &parquet, TGW_TYPES, "gzip")?;
    ensure!(groups >= 2, "at most {groups} row groups in a file");
    Ok(())
}

/// The manifest as JSON with what differs between file formats set aside.
fn comparable(manifest: &Manifest) -> anyhow::Result<String> {
    let mut m = manifest.clone();
    m.options.file_format = "?".into();
    m.options.parquet_compression = None;
    m.options.row_group_rows = None;
    m.totals.gzip_bytes = 0;
    for o in &mut m.objects {
        o.key = o.key.replace(".log.parquet", ".log.gz");
        o.gzip_bytes = 0;
    }
    Ok(serde_json::to_string_pretty(&m)?)
}

#[test]
fn text_and_parquet_runs_of_the_same_traffic_have_the_same_manifest() -> anyhow::Result<()> {
    let tgw = GenerateOptions {
        duration_secs: 15 * 60,
        service: FlowLogService::transit_gateway(),
        ..GenerateOptions::default()
    };
    for options in [vpc_options(ParquetCompression::Gzip)?, tgw] {
        let (text, parquet) = pair(options)?;
        ensure!(
            comparable(&text.manifest)? == comparable(&parquet.manifest)?,
            "manifests differ beyond keys, sizes and file format"
        );
        ensure!(
            text.manifest.totals.records_digest == parquet.manifest.totals.records_digest,
            "records digests differ"
        );
        ensure!(
            parquet.manifest.options.file_format == "parquet"
                && parquet.manifest.options.parquet_compression.as_deref() == Some("gzip")
                && text.manifest.options.file_format == "plain-text"
                && text.manifest.options.parquet_compression.is_none(),
            "file formats {:?} / {:?}",
            text.manifest.options,
            parquet.manifest.options
        );
        // The read-back text of each Parquet object is its text twin, digest for digest.
        for (t, p) in text.objects.iter().zip(&parquet.objects) {
            ensure!(
                object_text(&p.body)? == gunzip(&t.body)?,
                "{} reads back",
                p.key
            );
            let mut digest = RecordsDigest::new();
            for line in object_text(&p.body)?.lines().skip(1) {
                digest.add(line_digest(&line.split(' ').collect::<Vec<_>>()));
            }
            ensure!(
                digest.to_hex() == p.summary.records_digest,
                "{} digest",
                p.key
            );
        }
    }
    Ok(())
}

#[test]
fn parquet_keys_end_log_parquet_in_all_four_layouts() -> anyhow::Result<()> {
    for (hive, hourly) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut o = vpc_options(ParquetCompression::Snappy)?;
        o.service.layout = KeyLayout { hive, hourly };
        let (text, parquet) = pair(o)?;
        for (t, p) in text.objects.iter().zip(&parquet.objects) {
            ensure!(
                p.key.ends_with(".log.parquet")
                    && p.key.trim_end_matches(".log.parquet") == t.key.trim_end_matches(".log.gz"),
                "hive={hive} hourly={hourly}: {} beside {}",
                p.key,
                t.key
            );
        }
    }
    Ok(())
}

#[test]
fn the_same_seed_gives_byte_identical_parquet_objects() -> anyhow::Result<()> {
    let mut o = vpc_options(ParquetCompression::Zstd)?;
    o.service.file_format = FileFormat::Parquet;
    let (a, b) = (generate(&o)?, generate(&o)?);
    ensure!(a.objects.len() == b.objects.len(), "object counts");
    for (x, y) in a.objects.iter().zip(&b.objects) {
        ensure!(x.key == y.key && x.body == y.body, "{} differs", x.key);
    }
    Ok(())
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    generate: GenerateArgs,
}

#[tokio::test]
async fn generate_writes_parquet_objects_with_the_flags_codec_and_row_groups() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let manifest_path = dir.path().join("manifest.json");
    let manifest_s = manifest_path.to_string_lossy().into_owned();
    let args = Cli::try_parse_from([
        "generate",
        "--seed",
        "4",
        "--start",
        "2026-01-15T10:00:00Z",
        "--duration",
        "10m",
        "--resource-type",
        "transit-gateway",
        "--file-format",
        "parquet",
        "--parquet-compression",
        "zstd",
        "--row-group-rows",
        "50",
        "--hive",
        "--hourly",
        "--out",
        &out,
        "--manifest",
        &manifest_s,
    ])?
    .generate;
    run(args).await?;
    let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    ensure!(!manifest.objects.is_empty(), "no objects");
    for entry in &manifest.objects {
        let body = Bytes::from(std::fs::read(
            std::path::Path::new(&out)
                .join(&entry.bucket)
                .join(&entry.key),
        )?);
        let read = read_parquet(&body)?;
        ensure!(
            read.codecs == BTreeSet::from(["zstd".to_owned()]),
            "{:?}",
            read.codecs
        );
        ensure!(
            read.row_groups as u64 == entry.records.div_ceil(50),
            "{} row groups for {} records",
            read.row_groups,
            entry.records
        );
        ensure!(
            entry.gzip_bytes == body.len() as u64,
            "size of {}",
            entry.key
        );
    }
    for (flag, value, reason) in [
        ("--file-format", "csv", "plain-text or parquet"),
        ("--parquet-compression", "lzo", "none, snappy, gzip or zstd"),
    ] {
        let err = Cli::try_parse_from(["generate", flag, value])?
            .generate
            .options()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        ensure!(err.contains(reason), "{flag} {value}: {err}");
    }
    let zero = Cli::try_parse_from([
        "generate",
        "--file-format",
        "parquet",
        "--row-group-rows",
        "0",
    ])?
    .generate
    .options()?;
    let err = generate(&zero)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    ensure!(err.contains("rows per row group"), "{err}");
    Ok(())
}
