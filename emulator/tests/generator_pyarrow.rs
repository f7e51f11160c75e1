//! Parquet objects read by another implementation: pyarrow (from the project's virtualenv, as
//! `make tools` installs it) sees AWS's column names and types, and rows whose values are the
//! text lines of the same traffic, nulls where the text has `-`, for every codec.

mod generator_support;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, ensure};
use flowlog_emulator::generator::{
    FileFormat, FlowLogService, GenerateOptions, LogFormat, ParquetCompression, ParquetOptions,
    generate, write_to_dir,
};
use generator_support::gunzip;

/// Prints, per file: `schema` and `name:type` tokens, then each row with nulls as `-`.
const READER: &str = r#"
import sys
import pyarrow.parquet as pq
for path in sys.argv[1:]:
    table = pq.read_table(path)
    print("schema " + " ".join(f"{f.name}:{f.type}" for f in table.schema))
    for row in table.to_pylist():
        print(" ".join("-" if row[c] is None else str(row[c]) for c in table.column_names))
    print("end")
"#;

fn python() -> anyhow::Result<PathBuf> {
    let venv = std::env::var_os("FLOWLOG_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let python = venv.join("bin/python");
    ensure!(
        python.exists(),
        "{} not found: run `make tools`",
        python.display()
    );
    Ok(python)
}

fn arrow_type(name: &str, transit: bool) -> &'static str {
    match name {
        "protocol" if transit => "int64",
        "version" | "srcport" | "dstport" | "protocol" | "tcp_flags" | "traffic_path" => "int32",
        "packets" | "bytes" | "start" | "end" => "int64",
        n if n.starts_with("packets_lost_") => "int64",
        _ => "string",
    }
}

#[test]
fn pyarrow_reads_the_text_lines_values_with_aws_types() -> anyhow::Result<()> {
    let python = python()?;
    let dir = tempfile::tempdir()?;
    let vpc = GenerateOptions {
        seed: 31,
        duration_secs: 600,
        service: FlowLogService {
            format: LogFormat::parse(
                "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${type} ${sublocation-id} ${flow-direction} ${traffic-path} ${ecs-task-id}",
            )?,
            aggregation: 60,
            ..FlowLogService::default()
        },
        ..GenerateOptions::default()
    };
    let tgw = GenerateOptions {
        seed: 37,
        duration_secs: 600,
        service: FlowLogService::transit_gateway(),
        ..GenerateOptions::default()
    };
    let mut checked = 0;
    for (options, transit) in [(vpc, false), (tgw, true)] {
        for codec in [
            ParquetCompression::None,
            ParquetCompression::Snappy,
            ParquetCompression::Gzip,
            ParquetCompression::Zstd,
        ] {
            let mut o = options.clone();
            let text = generate(&o)?;
            o.service.file_format = FileFormat::Parquet;
            o.service.parquet = ParquetOptions {
                compression: codec,
                row_group_rows: 200,
            };
            let parquet = generate(&o)?;
            let root = dir.path().join(format!("{transit}-{codec}"));
            let mut paths = Vec::new();
            for object in &parquet.objects {
                paths.push(write_to_dir(&root, object)?);
            }
            let output = Command::new(&python)
                .arg("-c")
                .arg(READER)
                .args(&paths)
                .output()
                .context("run pyarrow")?;
            ensure!(
                output.status.success(),
                "pyarrow failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let stdout = String::from_utf8(output.stdout)?;
            let mut files = stdout.split("end\n");
            for object in &text.objects {
                let seen = files.next().context("pyarrow printed fewer files")?;
                let (schema, rows) = seen.split_once('\n').unwrap_or((seen, ""));
                let text_body = gunzip(&object.body)?;
                let (header, lines) = text_body.split_once('\n').unwrap_or_default();
                let expected_schema: Vec<String> = header
                    .split(' ')
                    .map(|f| {
                        let name = f.replace('-', "_");
                        let kind = arrow_type(&name, transit);
                        format!("{name}:{kind}")
                    })
                    .collect();
                ensure!(
                    schema == format!("schema {}", expected_schema.join(" ")),
                    "{codec}: {schema}"
                );
                ensure!(
                    rows == lines,
                    "{codec}: pyarrow's rows differ from {}",
                    object.key
                );
                checked += 1;
            }
        }
    }
    ensure!(checked >= 8, "only {checked} files checked");
    Ok(())
}
