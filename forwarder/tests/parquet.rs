//! Parquet objects: a row gives the record the same flow's text line gives, whoever wrote the
//! file and with whichever codec; damaged files are clear errors, never panics.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ctx, read_fixture};
use flowlog_forwarder::{
    BatchLimits, DryRunSummary, FileFormat, Input, LogTypeConfig, ReadError, dry_run,
};

/// Samples written as Parquet by pyarrow into fixtures/parquet (gzip pages, `_` names).
const SAMPLES: [&str; 6] = [
    "default-v2",
    "custom-v3-tcp-flags",
    "custom-v5",
    "nat-custom",
    "custom-v3-transit-path",
    "tgw-default",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Parses `bytes` read from a file (ranged reads), and again as a stream (held whole): both
/// must agree; returns the records and the summary.
fn parse(config: &LogTypeConfig, bytes: &[u8]) -> anyhow::Result<(String, DryRunSummary)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("object");
    std::fs::write(&path, bytes)?;
    let mut from_file = Vec::new();
    let input = Input::file(std::fs::File::open(&path)?);
    let summary = dry_run(
        config,
        ctx(),
        input,
        BatchLimits::default(),
        false,
        &mut from_file,
    )?;
    let mut from_stream = Vec::new();
    let streamed = dry_run(
        config,
        ctx(),
        Input::Stream(bytes),
        BatchLimits::default(),
        false,
        &mut from_stream,
    )?;
    assert_eq!(from_file, from_stream, "file and stream readings differ");
    assert_eq!(summary.to_string(), streamed.to_string());
    assert!(summary.accounting.is_balanced(), "{summary}");
    Ok((String::from_utf8(from_file)?, summary))
}

fn text_records(config: &LogTypeConfig, sample: &str) -> anyhow::Result<(String, DryRunSummary)> {
    let text = read_fixture(&format!("samples/{sample}.log"))?;
    parse(config, &text)
}

#[test]
fn every_sample_as_parquet_gives_exactly_the_records_of_its_text() -> anyhow::Result<()> {
    for config in [
        LogTypeConfig::builtin_vpc(),
        LogTypeConfig::from_file(&workspace().join("fixtures/configs/transforms.json"))?,
    ] {
        for sample in SAMPLES {
            // Arrange
            let parquet = read_fixture(&format!("parquet/{sample}.parquet"))?;
            let (expected, text) = text_records(&config, sample)?;
            // Act
            let (records, summary) = parse(&config, &parquet)?;
            // Assert
            assert_eq!(summary.format, Some(FileFormat::Parquet));
            assert!(summary.is_clean(), "{sample}: {summary}");
            assert_eq!(
                records, expected,
                "{sample}: records differ from the text's"
            );
            assert_eq!(summary.accounting.records, text.accounting.records);
            assert_eq!(summary.accounting.filtered, text.accounting.filtered);
            assert_eq!(summary.accounting.header, 0, "a schema is not a line");
            assert_eq!(
                summary.accounting.lines,
                text.accounting.lines - text.accounting.header,
                "lines count rows"
            );
        }
    }
    Ok(())
}

/// The virtualenv's Python with pyarrow (`make tools` installs it).
fn python() -> PathBuf {
    let venv =
        std::env::var_os("FLOWLOG_VENV").map_or_else(|| workspace().join(".venv"), PathBuf::from);
    venv.join("bin/python")
}

/// Writes `sample` as Parquet with pyarrow; `extra` are write_parquet.py's options.
fn pyarrow(sample: &str, out: &Path, extra: &[&str]) -> anyhow::Result<Vec<u8>> {
    let python = python();
    anyhow::ensure!(
        python.exists(),
        "{} not found: run `make tools` (it installs pyarrow into .venv), or set FLOWLOG_VENV",
        python.display()
    );
    let status = Command::new(&python)
        .arg(workspace().join("fixtures/parquet/write_parquet.py"))
        .arg(workspace().join(format!("fixtures/samples/{sample}.log")))
        .arg(out)
        .args(extra)
        .status()?;
    anyhow::ensure!(
        status.success(),
        "write_parquet.py {sample} {extra:?}: {status}"
    );
    Ok(std::fs::read(out)?)
}

#[test]
fn parquet_from_pyarrow_with_every_codec_and_small_row_groups_gives_the_text_records()
-> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    let dir = tempfile::tempdir()?;
    for codec in ["none", "snappy", "gzip", "zstd", "brotli", "lz4"] {
        for sample in SAMPLES {
            for names in ["underscore", "hyphen"] {
                // Arrange: two rows per row group, so most files have several.
                let out = dir.path().join(format!("{sample}-{codec}-{names}.parquet"));
                let args = ["--codec", codec, "--row-group-size", "2", "--names", names];
                let parquet = pyarrow(sample, &out, &args)?;
                let (expected, _) = text_records(&config, sample)?;
                // Act
                let (records, summary) = parse(&config, &parquet)?;
                // Assert
                assert!(summary.is_clean(), "{sample} {codec} {names}: {summary}");
                assert_eq!(records, expected, "{sample} {codec} {names}");
            }
        }
    }
    Ok(())
}

/// The error a damaged object ends with, as the summary line shows it.
fn damage(bytes: &[u8]) -> anyhow::Result<(DryRunSummary, String)> {
    let (_, summary) = parse(&LogTypeConfig::builtin_vpc(), bytes)?;
    let error = summary
        .read_error
        .as_ref()
        .map(ReadError::to_string)
        .unwrap_or_default();
    Ok((summary, error))
}

#[test]
fn a_damaged_parquet_object_is_a_clear_error_never_a_panic() -> anyhow::Result<()> {
    let good = read_fixture("parquet/default-v2.parquet")?;
    let len = good.len();
    let mut wrong_magic = good.clone();
    wrong_magic[len - 1] = b'2';
    let mut bad_footer = good.clone();
    let footer_len = u32::from_le_bytes(good[len - 8..len - 4].try_into()?) as usize;
    for byte in &mut bad_footer[len - 8 - footer_len..len - 8 - footer_len / 2] {
        *byte = 0xff;
    }
    let mut long_footer = good.clone();
    long_footer[len - 8..len - 4].copy_from_slice(&(len as u32).to_le_bytes());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "truncated",
            good[..len / 2].to_vec(),
            "not a whole Parquet file",
        ),
        (
            "wrong magic",
            wrong_magic,
            "does not end with the magic bytes PAR1",
        ),
        ("bad footer", bad_footer, "footer"),
        (
            "footer longer than the file",
            long_footer,
            "more than the file holds",
        ),
        ("only the magic", b"PAR1".to_vec(), "too few for Parquet"),
    ];
    for (name, bytes, expected) in cases {
        let (summary, error) = damage(&bytes)?;
        assert!(error.contains(expected), "{name}: {error}");
        assert!(error.contains("reading Parquet"), "{name}: {error}");
        assert_eq!(summary.accounting.records, 0, "{name}");
    }
    Ok(())
}

#[test]
fn a_page_that_does_not_decode_fails_its_row_group_after_the_rows_before_it() -> anyhow::Result<()>
{
    // Arrange: one row per row group; the end of the compressed `srcaddr` page of the fifth
    // row group is overwritten (its deflate stream and checksum).
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("x.parquet");
    let args = ["--codec", "gzip", "--row-group-size", "1"];
    let mut bytes = pyarrow("default-v2", &out, &args)?;
    let metadata = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&bytes::Bytes::from(bytes.clone()))?;
    let column = metadata.row_group(4).column(3);
    assert_eq!(column.column_path().string(), "srcaddr");
    let (start, len) = column.byte_range();
    let end = usize::try_from(start + len)?;
    for byte in &mut bytes[end - 8..end] {
        *byte ^= 0x5a;
    }
    // Act
    let (summary, error) = damage(&bytes)?;
    // Assert
    assert!(error.contains("reading Parquet"), "{error}");
    assert!(error.contains("row group 4"), "{error}");
    assert_eq!(
        summary.accounting.records, 4,
        "the rows before the damage: {summary}"
    );
    Ok(())
}

#[test]
fn a_column_of_an_unexpected_type_names_the_column_and_the_type_expected() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for (retype, column, expected) in [
        ("srcport=string", "srcport", "INT32 or INT64"),
        ("packets=float64", "packets", "INT32 or INT64"),
        ("account-id=int64", "account_id", "STRING"),
        ("action=bool", "action", "STRING"),
    ] {
        let out = dir.path().join("x.parquet");
        let bytes = pyarrow("default-v2", &out, &["--retype", retype])?;
        let (summary, error) = damage(&bytes)?;
        assert!(
            error.contains(&format!("column `{column}`")),
            "{retype}: {error}"
        );
        assert!(error.contains(expected), "{retype}: {error}");
        assert_eq!(summary.accounting.lines, 0, "{retype}");
    }
    Ok(())
}
