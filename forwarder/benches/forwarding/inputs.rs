//! Bench inputs: seeded flow-log objects of an exact record count, made by the project's own
//! generator (which also gives the generator's speed).
//!
//! The generator plays the VPC Flow Logs service, which rotates files at 75 MiB, so one
//! N-record object is assembled from its 5-minute objects: the first header is kept, the data
//! lines follow in delivery order until N, and the whole is gzipped once, as one member.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;
use flowlog_emulator::generator::{GenerateOptions, LogFormat, ObjectStream, TrafficOptions};

/// The v5 custom format of the bench: every field a Site24x7 VPC dashboard uses, and more.
pub const V5_FORMAT: &str = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} \
${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} \
${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} \
${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} \
${flow-direction} ${log-status}";

/// gzip level of the assembled object (the service's own level is not published; 6 is gzip's).
const INPUT_GZIP_LEVEL: u32 = 6;

/// One bench object on disk.
#[derive(Debug, Clone)]
pub struct BenchObject {
    /// `default` or `v5`.
    pub format: &'static str,
    /// Data lines (the header not counted).
    pub records: u64,
    /// The gzip object.
    pub gzip_path: PathBuf,
    /// The same text uncompressed, when kept (for `parse`).
    pub plain_path: Option<PathBuf>,
    /// Uncompressed bytes, header included.
    pub plain_bytes: u64,
    /// Compressed bytes.
    pub gzip_bytes: u64,
}

/// The generator's own speed while producing an object.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorSpeed {
    /// Records it produced (a little more than asked: whole 5-minute objects).
    pub records: u64,
    /// Uncompressed bytes of those records.
    pub raw_bytes: u64,
    /// Seconds spent inside the generator (simulation, lines and its gzip), one core.
    pub seconds: f64,
}

/// Generates `records` records of `format` (`default` or `v5`) into `dir`.
pub fn generate(
    format: &'static str,
    records: u64,
    dir: &Path,
    keep_plain: bool,
) -> anyhow::Result<(BenchObject, GeneratorSpeed)> {
    let mut options = GenerateOptions {
        seed: 7,
        // Long enough for any count: the stream is lazy and stopped at `records`.
        duration_secs: 90 * 24 * 3600,
        traffic: TrafficOptions {
            vpcs: 4,
            enis_per_vpc: 26,
            rate: 10.0,
        },
        ..GenerateOptions::default()
    };
    options.service.aggregation = 60;
    if format == "v5" {
        options.service.format = LogFormat::parse(V5_FORMAT)?;
    }
    let name = format!("{format}-{records}");
    let gzip_path = dir.join(format!("{name}.log.gz"));
    let plain_path = keep_plain.then(|| dir.join(format!("{name}.log")));
    let mut gz = GzEncoder::new(
        BufWriter::new(std::fs::File::create(&gzip_path)?),
        Compression::new(INPUT_GZIP_LEVEL),
    );
    let mut plain = plain_path
        .as_ref()
        .map(|p| std::fs::File::create(p).map(BufWriter::new))
        .transpose()?;
    let mut speed = GeneratorSpeed {
        records: 0,
        raw_bytes: 0,
        seconds: 0.0,
    };
    let (mut written, mut plain_bytes, mut header_kept) = (0u64, 0u64, false);
    let mut stream = ObjectStream::new(&options)?;
    let mut line = Vec::with_capacity(512);
    while written < records {
        let started = Instant::now();
        let Some(object) = stream.next() else {
            anyhow::bail!("the generator ended after {written} records; lengthen its period");
        };
        speed.seconds += started.elapsed().as_secs_f64();
        speed.records += object.summary.records;
        speed.raw_bytes += object.summary.raw_bytes;
        let mut text = BufReader::new(MultiGzDecoder::new(&object.body[..]));
        let mut at_header = true;
        loop {
            line.clear();
            if written == records || text.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if std::mem::take(&mut at_header) {
                // Every object starts with the header; the assembled one keeps the first.
                if std::mem::replace(&mut header_kept, true) {
                    continue;
                }
            } else {
                written += 1;
            }
            gz.write_all(&line)?;
            if let Some(plain) = plain.as_mut() {
                plain.write_all(&line)?;
            }
            plain_bytes += line.len() as u64;
        }
    }
    gz.finish()?.flush()?;
    if let Some(mut plain) = plain {
        plain.flush()?;
    }
    let object = BenchObject {
        format,
        records,
        gzip_bytes: std::fs::metadata(&gzip_path)?.len(),
        gzip_path,
        plain_path,
        plain_bytes,
    };
    Ok((object, speed))
}

/// Rows per row group of the bench's Parquet objects (the generator's default).
pub const PARQUET_ROW_GROUP_ROWS: usize = 65_536;

/// The rows of `object` as one Parquet object beside it (AWS's types, GZIP pages): the same
/// flows, so text and Parquet are compared per record.
pub fn to_parquet(object: &BenchObject, dir: &Path) -> anyhow::Result<(PathBuf, u64)> {
    let path = dir.join(format!("{}-{}.log.parquet", object.format, object.records));
    let mut text = BufReader::new(MultiGzDecoder::new(BufReader::new(std::fs::File::open(
        &object.gzip_path,
    )?)));
    let mut header = String::new();
    text.read_line(&mut header)?;
    let fields: Vec<String> = header.split_whitespace().map(str::to_owned).collect();
    let lines = std::iter::from_fn(move || {
        let mut line = Vec::with_capacity(256);
        match text.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    });
    let out = BufWriter::new(std::fs::File::create(&path)?);
    crate::to_parquet::write_parquet(&fields, lines, PARQUET_ROW_GROUP_ROWS, out)?.flush()?;
    let bytes = std::fs::metadata(&path)?.len();
    Ok((path, bytes))
}
