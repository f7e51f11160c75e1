//! Property: random lines over random field subsets and orders round-trip through records and
//! batches; batches respect their caps and decompress to arrays whose counts sum to the input.

mod common;

use std::io::Read as _;

use flowlog_forwarder::flowlog::FIELDS;
use flowlog_forwarder::{BatchLimits, Batcher, LineOutcome, LogTypeConfig, ObjectParser};
use proptest::prelude::*;

const CONFIG: &str = r#"{"apiKey":"k","logType":"vpc","uploadDomain":"logc.site24x7.com","dateFormat":"agent_time"}"#;

fn case() -> impl Strategy<Value = (Vec<&'static str>, Vec<Vec<String>>, usize, usize)> {
    let names =
        proptest::sample::subsequence(FIELDS.iter().map(|f| f.name).collect::<Vec<_>>(), 1..12)
            .prop_shuffle();
    (names, 1500usize..6000, 1usize..20).prop_flat_map(|(names, max_bytes, max_records)| {
        let width = names.len();
        let line = proptest::collection::vec("[A-Za-z0-9.:/_-]{1,12}", width);
        (
            Just(names),
            proptest::collection::vec(line, 0..60),
            Just(max_bytes),
            Just(max_records),
        )
    })
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

proptest! {
    #[test]
    fn records_round_trip_and_batches_respect_their_caps(
        (names, lines, max_json_bytes, max_records) in case(),
        separator in prop_oneof![Just(" "), Just("  "), Just("\t")],
    ) {
        // Arrange
        let config = LogTypeConfig::from_json_bytes(CONFIG.as_bytes()).expect("valid config");
        let limits = BatchLimits { max_json_bytes, max_records, gzip_level: 1 };
        let mut parser = ObjectParser::new(&config, common::ctx());
        let mut batcher = Batcher::new(limits);
        let mut records = Vec::new();
        let mut batches = Vec::new();
        // Act
        let header = names.join(" ");
        prop_assert_eq!(parser.feed_line(header.as_bytes(), &mut batcher), LineOutcome::Header);
        for tokens in &lines {
            let outcome = parser.feed_line(tokens.join(separator).as_bytes(), &mut batcher);
            prop_assert!(matches!(outcome, LineOutcome::Record { .. }), "{:?}", outcome);
            records.push(batcher.last_record().to_vec());
            batches.extend(std::iter::from_fn(|| batcher.pop_ready()));
        }
        batches.extend(batcher.finish());
        // Assert: every value is its token, keys are the names with `_`.
        for (tokens, json) in lines.iter().zip(&records) {
            let record: serde_json::Value = serde_json::from_slice(json).expect("record is JSON");
            for (name, token) in names.iter().zip(tokens) {
                prop_assert_eq!(&record[name.replace('-', "_")], &serde_json::Value::from(token.as_str()));
            }
        }
        // Assert: caps hold, arrays decompress, and their records are the parsed ones in order.
        let mut from_batches = Vec::new();
        for batch in &batches {
            prop_assert!(batch.json_bytes <= max_json_bytes);
            prop_assert!(batch.records <= max_records && batch.records > 0);
            let json = gunzip(&batch.body);
            prop_assert_eq!(json.len(), batch.json_bytes);
            let array: Vec<serde_json::Value> = serde_json::from_slice(&json).expect("JSON array");
            prop_assert_eq!(array.len(), batch.records);
            from_batches.extend(array);
        }
        prop_assert_eq!(from_batches.len(), lines.len());
        for (json, value) in records.iter().zip(&from_batches) {
            prop_assert_eq!(&serde_json::from_slice::<serde_json::Value>(json).expect("JSON"), value);
        }
        let accounting = parser.accounting();
        prop_assert!(accounting.is_balanced());
        prop_assert_eq!(accounting.records, lines.len() as u64);
    }
}

#[path = "../benches/forwarding/to_parquet.rs"]
mod to_parquet;

/// Field subsets (transit-gateway fields included) with values fitting AWS's column types,
/// `-` (null) among them, and a row-group size.
fn typed_case() -> impl Strategy<Value = (Vec<&'static str>, Vec<Vec<String>>, usize)> {
    let names =
        proptest::sample::subsequence(FIELDS.iter().map(|f| f.name).collect::<Vec<_>>(), 1..16)
            .prop_shuffle();
    (names, 1usize..40).prop_flat_map(|(names, rows_per_group)| {
        let values: Vec<BoxedStrategy<String>> = names
            .iter()
            .map(|name| {
                let field = flowlog_forwarder::flowlog::field(name).map(|f| f.kind);
                match field {
                    Some(flowlog_forwarder::FieldType::Int32) => prop_oneof![
                        4 => any::<i32>().prop_map(|v| v.to_string()),
                        1 => Just("-".to_owned()),
                    ]
                    .boxed(),
                    Some(flowlog_forwarder::FieldType::Int64) => prop_oneof![
                        4 => any::<i64>().prop_map(|v| v.to_string()),
                        1 => Just("-".to_owned()),
                    ]
                    .boxed(),
                    _ => prop_oneof![
                        4 => "[A-Za-z0-9.:/_-]{1,12}".prop_filter("not null", |v| v != "-"),
                        1 => Just("-".to_owned()),
                    ]
                    .boxed(),
                }
            })
            .collect();
        (
            Just(names),
            proptest::collection::vec(values, 0..80),
            Just(rows_per_group),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn a_parquet_row_gives_the_record_of_its_text_line(
        (names, rows, rows_per_group) in typed_case(),
    ) {
        // Arrange
        let config = LogTypeConfig::from_json_bytes(CONFIG.as_bytes()).expect("valid config");
        let fields: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut text = names.join(" ");
        for row in &rows {
            text.push('\n');
            text.push_str(&row.join(" "));
        }
        let lines = rows.iter().map(|r| r.join(" ").into_bytes());
        let parquet = to_parquet::write_parquet(&fields, lines, rows_per_group, Vec::new())
            .expect("written");
        // Act
        let parse = |input: &[u8]| {
            let mut out = Vec::new();
            let input = flowlog_forwarder::Input::Stream(input);
            let summary = flowlog_forwarder::dry_run(
                &config, common::ctx(), input, BatchLimits::default(), false, &mut out,
            ).expect("dry run");
            (String::from_utf8(out).expect("UTF-8"), summary)
        };
        let (from_text, text_summary) = parse(text.as_bytes());
        let (from_parquet, parquet_summary) = parse(&parquet);
        // Assert
        prop_assert!(parquet_summary.is_clean(), "{}", parquet_summary);
        prop_assert_eq!(text_summary.accounting.records, rows.len() as u64);
        prop_assert_eq!(parquet_summary.accounting.records, rows.len() as u64);
        prop_assert_eq!(from_parquet, from_text);
    }
}
