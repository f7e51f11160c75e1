//! `ObjectStream` (pushed chunks) gives exactly what `parse_reader` (a reader) gives.

mod common;

use std::io::Read as _;

use common::{ctx, gzip, read_fixture};
use flowlog_forwarder::{
    Accounting, BatchLimits, Batcher, LogTypeConfig, ObjectParser, ObjectStream, UploadBatch,
    parse_reader,
};

fn json_of(batches: &[UploadBatch]) -> anyhow::Result<Vec<String>> {
    batches
        .iter()
        .map(|b| {
            let mut out = String::new();
            flate2::read::GzDecoder::new(&b.body[..]).read_to_string(&mut out)?;
            Ok(out)
        })
        .collect()
}

fn via_reader(
    config: &LogTypeConfig,
    input: &[u8],
    limits: BatchLimits,
) -> anyhow::Result<(Accounting, Vec<UploadBatch>)> {
    let mut parser = ObjectParser::new(config, ctx());
    let mut batcher = Batcher::new(limits);
    let mut batches = Vec::new();
    let _ = parse_reader(input, &mut parser, &mut batcher, |_, b| {
        batches.extend(std::iter::from_fn(|| b.pop_ready()))
    });
    batches.extend(batcher.finish());
    Ok((parser.accounting().clone(), batches))
}

fn via_stream(
    config: &LogTypeConfig,
    input: &[u8],
    limits: BatchLimits,
    chunk: usize,
) -> (flowlog_forwarder::StreamEnd, Vec<UploadBatch>) {
    let mut stream = ObjectStream::new(config, ctx(), limits);
    let mut batches = Vec::new();
    for piece in input.chunks(chunk) {
        if stream.push(piece).is_err() {
            break;
        }
        batches.extend(std::iter::from_fn(|| stream.pop_ready()));
    }
    let mut end = stream.finish();
    batches.append(&mut end.batches);
    (end, batches)
}

#[test]
fn pushed_chunks_of_any_size_give_the_same_batches_as_a_reader() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    let limits = BatchLimits {
        max_json_bytes: 2_000,
        max_records: 3,
        gzip_level: 1,
    };
    for name in [
        "default-v2",
        "custom-v3-tcp-flags",
        "custom-v5",
        "nat-custom",
    ] {
        let plain = read_fixture(&format!("samples/{name}.log"))?;
        let mut two_members = gzip(&plain[..plain.len() / 2])?;
        two_members.extend(gzip(&plain[plain.len() / 2..])?);
        for input in [plain.clone(), gzip(&plain)?, two_members] {
            let (accounting, expected) = via_reader(&config, &input, limits)?;
            for chunk in [1, 2, 7, 100, 1 << 16] {
                let (end, batches) = via_stream(&config, &input, limits, chunk);
                assert!(end.error.is_none(), "{name} chunk {chunk}: {:?}", end.error);
                assert_eq!(end.accounting, accounting, "{name} chunk {chunk}");
                assert_eq!(
                    json_of(&batches)?,
                    json_of(&expected)?,
                    "{name} chunk {chunk}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn a_truncated_gzip_stream_ends_with_an_error_and_balanced_counts() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    let compressed = gzip(&read_fixture("samples/custom-v3-tcp-flags.log")?)?;
    let (end, _) = via_stream(
        &config,
        &compressed[..compressed.len() - 10],
        BatchLimits::default(),
        64,
    );
    assert!(end.error.is_some());
    assert!(end.accounting.is_balanced(), "{}", end.accounting);
    Ok(())
}

#[test]
fn an_empty_or_one_byte_stream_gives_no_records() {
    let config = LogTypeConfig::builtin_vpc();
    for input in [&b""[..], b"2"] {
        let (end, batches) = via_stream(&config, input, BatchLimits::default(), 1);
        assert!(batches.is_empty());
        assert_eq!(end.accounting.lines, input.len() as u64);
        assert!(end.accounting.is_balanced());
    }
}
