//! The floor: what forwarding an object cannot go below on this machine, measured in the same
//! run on the same cores. Forwarding must at least gunzip the input and gzip the JSON it
//! produces; everything else (S3, parsing, records, HTTP) is the forwarder's overhead.

use std::io::{BufReader, Read as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use flate2::bufread::MultiGzDecoder;
use flowlog_forwarder::batch::gzip;
use flowlog_forwarder::input::{Input, NumberedBatch, ReadJob, read_object};
use flowlog_forwarder::{BatchLimits, LogTypeConfig, ObjectContext, SealedBatch};
use serde::Serialize;

use crate::inputs::BenchObject;

/// The floor's parts, each timed alone on one core.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// Seconds to gunzip the input (the forwarder's decoder and buffer size).
    pub gunzip_s: f64,
    /// Seconds to gzip every batch of the produced JSON at the forwarder's level.
    pub gzip_s: f64,
    /// Uncompressed JSON bytes over all batches.
    pub json_bytes: u64,
    /// Their gzip bytes.
    pub gzip_bytes: u64,
    /// Batches.
    pub batches: usize,
    /// Cores the floor spreads over.
    pub cores: usize,
    /// Wall time of both parts run together on those cores: one thread per core taking jobs
    /// (the gunzip first, then one job per batch). This is the floor the forwarder is held to.
    pub wall_s: f64,
    /// The same from the one-core parts, with perfect sharing: the larger of the gunzip alone
    /// (one sequential stream) and all the work spread evenly.
    pub ideal_wall_s: f64,
}

/// The JSON batches the forwarder sends for the gzip object `data` (parsed in process, not
/// timed).
pub fn batches(data: &[u8], config: &LogTypeConfig) -> anyhow::Result<Vec<SealedBatch>> {
    let ctx = ObjectContext::now("bench", "bench.log.gz");
    let mut sealed = Vec::new();
    let job = ReadJob::new(config, ctx, BatchLimits::default());
    let end = read_object(Input::Stream(data), job, &mut |batch: NumberedBatch<
        SealedBatch,
    >| {
        sealed.push(batch.batch);
        std::ops::ControlFlow::Continue(())
    });
    if let Some(error) = end.read_error {
        return Err(error.into());
    }
    Ok(sealed)
}

/// Times the floor once for `object` (its gzip bytes are `data`, its batches `sealed`): each
/// part alone on one core, then both together on every core.
pub fn measure(
    object: &BenchObject,
    data: &[u8],
    sealed: &[SealedBatch],
    level: u32,
    cores: usize,
) -> anyhow::Result<Floor> {
    let (gunzip_s, text_bytes) = gunzip(data);
    anyhow::ensure!(
        text_bytes == object.plain_bytes,
        "gunzip gave {text_bytes} bytes, not the {} generated",
        object.plain_bytes
    );
    let started = Instant::now();
    let gzip_bytes: usize = sealed.iter().map(|b| gzip(&b.json, level).len()).sum();
    let gzip_s = started.elapsed().as_secs_f64();
    Ok(Floor {
        gunzip_s,
        gzip_s,
        json_bytes: sealed.iter().map(|b| b.json.len() as u64).sum(),
        gzip_bytes: gzip_bytes as u64,
        batches: sealed.len(),
        cores,
        wall_s: time_on_all_cores(data, sealed, level, cores),
        ideal_wall_s: gunzip_s.max((gunzip_s + gzip_s) / cores.max(1) as f64),
    })
}

/// Gunzip and every batch's gzip as jobs for `cores` threads; the wall time of all of them.
fn time_on_all_cores(data: &[u8], sealed: &[SealedBatch], level: u32, cores: usize) -> f64 {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores.max(1) {
            scope.spawn(|| {
                loop {
                    match next.fetch_add(1, Ordering::Relaxed) {
                        0 => drop(gunzip(data)),
                        n => match sealed.get(n - 1) {
                            Some(batch) => drop(gzip(&batch.json, level)),
                            None => break,
                        },
                    }
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
}

/// Seconds to gunzip `data` as the forwarder does (its decoder and buffer sizes), and the
/// bytes it gave (fewer than expected if the stream is corrupt).
fn gunzip(data: &[u8]) -> (f64, u64) {
    let started = Instant::now();
    let mut decoder = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(data));
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    while let Ok(n @ 1..) = decoder.read(&mut buf) {
        total += n as u64;
    }
    (started.elapsed().as_secs_f64(), total)
}

/// One compressor setting on the produced JSON.
#[derive(Debug, Clone, Serialize)]
pub struct LevelPoint {
    /// `libdeflate` or `zlib-rs` (flate2, the streaming encoder used before).
    pub compressor: &'static str,
    /// Its level.
    pub level: u32,
    /// JSON megabytes compressed per CPU second.
    pub mb_per_s: f64,
    /// JSON bytes per gzip byte.
    pub ratio: f64,
}

/// Ratio against CPU for every level, on the first batches (enough for stable figures).
pub fn level_sweep(sealed: &[SealedBatch]) -> Vec<LevelPoint> {
    let point = |compressor, level, batches: usize, compress: &dyn Fn(&[u8]) -> usize| {
        let sample = &sealed[..sealed.len().min(batches)];
        let json: usize = sample.iter().map(|b| b.json.len()).sum();
        let started = Instant::now();
        let out: usize = sample.iter().map(|b| compress(&b.json)).sum();
        let seconds = started.elapsed().as_secs_f64();
        LevelPoint {
            compressor,
            level,
            mb_per_s: json as f64 / 1e6 / seconds,
            ratio: json as f64 / out.max(1) as f64,
        }
    };
    // Levels 10-12 run a hundred times slower: a few batches show it.
    let mut points: Vec<LevelPoint> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
        .into_iter()
        .map(|level| {
            let batches = if level >= 10 { 4 } else { 40 };
            point("libdeflate", level, batches, &|json| {
                gzip(json, level).len()
            })
        })
        .collect();
    points.push(point("zlib-rs", 6, 40, &|json| zlib_rs_gzip(json, 6)));
    points
}

fn zlib_rs_gzip(json: &[u8], level: u32) -> usize {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(json);
    encoder.finish().map(|v| v.len()).unwrap_or(0)
}
