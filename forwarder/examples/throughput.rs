//! Throughput of the record path: `cargo run --release -p flowlog-forwarder --example throughput -- FILE`.
//!
//! Parses a plain-text flow-log file (read into memory first) into batches at several gzip
//! levels and prints records per second, so parsing and compression costs can be told apart.

use std::time::Instant;

use flowlog_forwarder::{BatchLimits, Batcher, LogTypeConfig, ObjectContext, ObjectParser};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: throughput FILE"))?;
    let data = std::fs::read(&path)?;
    let config = LogTypeConfig::builtin_vpc();
    for level in [0u32, 1, 6] {
        let limits = BatchLimits {
            gzip_level: level,
            ..BatchLimits::default()
        };
        let started = Instant::now();
        let mut parser = ObjectParser::new(&config, ObjectContext::now("bench", "bench.log"));
        let mut batcher = Batcher::new(limits);
        let mut gzip_bytes = 0usize;
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            parser.feed_line(line, &mut batcher);
            while let Some(batch) = batcher.pop_ready() {
                gzip_bytes += batch.body.len();
            }
        }
        gzip_bytes += batcher.finish().iter().map(|b| b.body.len()).sum::<usize>();
        let seconds = started.elapsed().as_secs_f64();
        let records = parser.accounting().records;
        println!(
            "gzip level {level}: {records} records in {seconds:.3} s = {:.0} records/s ({gzip_bytes} gzip bytes)",
            records as f64 / seconds
        );
    }
    Ok(())
}
