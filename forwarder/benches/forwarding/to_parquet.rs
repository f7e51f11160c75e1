//! Flow-log text as Parquet, typed as the VPC Flow Logs service types it (INT32 / INT64 /
//! STRING, `-` as null, columns named with `_`): the bench's Parquet objects, and the property
//! test's (which includes this file).

use std::io::Write;
use std::sync::Arc;

use flowlog_forwarder::flowlog::{self, FieldType};
use parquet::basic::{Compression, GzipLevel, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// One column's values for the row group being filled.
enum Values {
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Text(Vec<ByteArray>),
}

/// Writes `lines` (whitespace-separated values of `fields`) as Parquet to `out`, `rows` per
/// row group, GZIP pages.
///
/// # Errors
/// A value that is not an integer in an integer column, or the writer's error.
pub fn write_parquet<W: Write + Send>(
    fields: &[String],
    lines: impl IntoIterator<Item = Vec<u8>>,
    rows: usize,
    out: W,
) -> anyhow::Result<W> {
    let kinds: Vec<FieldType> = fields
        .iter()
        .map(|f| flowlog::field(f).map_or(FieldType::String, |spec| spec.kind))
        .collect();
    let columns = fields
        .iter()
        .zip(&kinds)
        .map(|(name, kind)| {
            let name = name.replace('-', "_");
            let built = match kind {
                FieldType::Int32 => Type::primitive_type_builder(&name, PhysicalType::INT32),
                FieldType::Int64 => Type::primitive_type_builder(&name, PhysicalType::INT64),
                FieldType::String => Type::primitive_type_builder(&name, PhysicalType::BYTE_ARRAY)
                    .with_logical_type(Some(LogicalType::String)),
            };
            Ok(Arc::new(
                built.with_repetition(Repetition::OPTIONAL).build()?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let schema = Arc::new(
        Type::group_type_builder("flow_logs")
            .with_fields(columns)
            .build()?,
    );
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    let mut writer = SerializedFileWriter::new(out, schema, Arc::new(props))?;
    let empty = || -> Vec<(Values, Vec<i16>)> {
        kinds
            .iter()
            .map(|k| {
                let values = match k {
                    FieldType::Int32 => Values::Int32(Vec::new()),
                    FieldType::Int64 => Values::Int64(Vec::new()),
                    FieldType::String => Values::Text(Vec::new()),
                };
                (values, Vec::new())
            })
            .collect()
    };
    let mut group = empty();
    let mut filled = 0;
    for line in lines {
        let text = std::str::from_utf8(&line)?;
        for ((values, levels), token) in group.iter_mut().zip(text.split_ascii_whitespace()) {
            if token == "-" {
                levels.push(0);
                continue;
            }
            levels.push(1);
            match values {
                Values::Int32(v) => v.push(token.parse()?),
                Values::Int64(v) => v.push(token.parse()?),
                Values::Text(v) => v.push(ByteArray::from(token)),
            }
        }
        filled += 1;
        if filled == rows {
            flush(&mut writer, std::mem::replace(&mut group, empty()))?;
            filled = 0;
        }
    }
    if filled > 0 {
        flush(&mut writer, group)?;
    }
    Ok(writer.into_inner()?)
}

fn flush<W: Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    group: Vec<(Values, Vec<i16>)>,
) -> anyhow::Result<()> {
    let mut row_group = writer.next_row_group()?;
    for (values, levels) in group {
        let Some(mut column) = row_group.next_column()? else {
            anyhow::bail!("more columns than the schema");
        };
        match &values {
            Values::Int32(v) => {
                column
                    .typed::<Int32Type>()
                    .write_batch(v, Some(&levels), None)?;
            }
            Values::Int64(v) => {
                column
                    .typed::<Int64Type>()
                    .write_batch(v, Some(&levels), None)?;
            }
            Values::Text(v) => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(v, Some(&levels), None)?;
            }
        }
        column.close()?;
    }
    row_group.close()?;
    Ok(())
}
