//! Generation speed, records per second on one core including gzip (run in release mode):
//! `cargo run --release -p flowlog-emulator --example generator_bench [gzip-level] [hours]`.

use std::time::Instant;

use flowlog_emulator::generator::{GenerateOptions, ObjectStream, TrafficOptions};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let level: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(6);
    let hours: i64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    let mut options = GenerateOptions {
        duration_secs: hours * 3600,
        traffic: TrafficOptions {
            vpcs: 4,
            enis_per_vpc: 26,
            rate: 10.0,
        },
        ..GenerateOptions::default()
    };
    options.service.gzip_level = level;
    options.service.aggregation = 60;
    let started = Instant::now();
    let (mut records, mut raw, mut gzip, mut objects) = (0u64, 0u64, 0u64, 0u64);
    for object in ObjectStream::new(&options)? {
        records += object.summary.records;
        raw += object.summary.raw_bytes;
        gzip += object.body.len() as u64;
        objects += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "generator: {records} records in {objects} objects, {:.1} MB text -> {:.1} MB gzip (level {level}) in {secs:.2} s: {:.0} records/s",
        raw as f64 / 1e6,
        gzip as f64 / 1e6,
        records as f64 / secs
    );
    Ok(())
}
