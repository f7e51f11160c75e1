//! Parquet objects as the VPC Flow Logs service writes them (`FileFormat` `parquet`): one OPTIONAL
//! column per field of the format, in format order, named like the field with `-` → `_`
//! (`account_id`, `tcp_flags`: the names AWS's Athena integration gives its columns), with AWS's
//! types — INT32 for version, srcport, dstport, protocol, tcp-flags and traffic-path; INT64 for
//! packets, bytes, start, end, the `packets-lost-*` counters and (transit gateway only) protocol;
//! BYTE_ARRAY with the STRING logical type for the rest. A `-` of the text is a null.
//!
//! Rows are taken from the very text line the plain-text object would carry, so a Parquet row
//! and its text line hold the same values by construction. Columns are buffered for one row group
//! (bounded memory), then written through the low-level column writers; the compressed file grows
//! in memory like a gzip body does.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, GzipLevel, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};

use super::error::ConfigError;
use super::fields::{Field, LogFormat, ResourceType};

/// The page codec of generated Parquet objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParquetCompression {
    /// Pages stored as they are.
    None,
    /// Snappy.
    Snappy,
    /// GZIP, what AWS states it writes ("Parquet format with Gzip compression").
    #[default]
    Gzip,
    /// Zstandard (level 1).
    Zstd,
}

impl ParquetCompression {
    /// The option value: `none`, `snappy`, `gzip` or `zstd`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Snappy => "snappy",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

impl FromStr for ParquetCompression {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Ok(Self::None),
            "snappy" => Ok(Self::Snappy),
            "gzip" => Ok(Self::Gzip),
            "zstd" => Ok(Self::Zstd),
            _ => Err(ConfigError::Range {
                name: "parquet-compression",
                value: s.to_owned(),
                reason: "expected none, snappy, gzip or zstd".into(),
            }),
        }
    }
}

impl fmt::Display for ParquetCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How Parquet objects are laid out (ignored for plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Page codec (GZIP by default, like the service).
    pub compression: ParquetCompression,
    /// Rows per row group: a file holds `ceil(records / row_group_rows)` row groups, and the
    /// writer buffers at most one row group.
    pub row_group_rows: usize,
}

/// Rows per row group unless told otherwise.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 65_536;

impl Default for ParquetOptions {
    fn default() -> Self {
        Self {
            compression: ParquetCompression::Gzip,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
        }
    }
}

/// The physical type of a field's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// INT32.
    Int32,
    /// INT64.
    Int64,
    /// BYTE_ARRAY, STRING logical type.
    String,
}

/// The column type AWS documents for `field` in flow logs of `resource`.
#[must_use]
pub fn column_type(field: Field, resource: ResourceType) -> ColumnType {
    match field {
        Field::Protocol if resource == ResourceType::TransitGateway => ColumnType::Int64,
        Field::Version
        | Field::Srcport
        | Field::Dstport
        | Field::Protocol
        | Field::TcpFlags
        | Field::TrafficPath => ColumnType::Int32,
        Field::Packets
        | Field::Bytes
        | Field::Start
        | Field::End
        | Field::PacketsLostNoRoute
        | Field::PacketsLostBlackhole
        | Field::PacketsLostMtuExceeded
        | Field::PacketsLostTtlExpired => ColumnType::Int64,
        _ => ColumnType::String,
    }
}

/// The column name of a field: its name with `-` replaced by `_`.
#[must_use]
pub fn column_name(field: Field) -> String {
    field.name().replace('-', "_")
}

/// What every Parquet file of one run shares: schema and writer properties.
#[derive(Debug, Clone)]
pub(crate) struct ParquetLayout {
    schema: TypePtr,
    properties: WriterPropertiesPtr,
    types: Vec<ColumnType>,
    row_group_rows: usize,
}

impl ParquetLayout {
    /// Builds the schema of `format` (already resolved for `resource`).
    ///
    /// # Errors
    /// [`ConfigError::Range`] for a row-group size or gzip level the writer does not take.
    pub(crate) fn new(
        format: &LogFormat,
        resource: ResourceType,
        options: ParquetOptions,
        gzip_level: u32,
    ) -> Result<Self, ConfigError> {
        if !(1..=16 * 1024 * 1024).contains(&options.row_group_rows) {
            return Err(ConfigError::Range {
                name: "row_group_rows",
                value: options.row_group_rows.to_string(),
                reason: "1 to 16777216 rows per row group".into(),
            });
        }
        let invalid = |e: parquet::errors::ParquetError| ConfigError::Range {
            name: "parquet",
            value: format.to_format_string(),
            reason: e.to_string(),
        };
        let types: Vec<ColumnType> = format
            .fields()
            .iter()
            .map(|f| column_type(*f, resource))
            .collect();
        let mut columns = Vec::with_capacity(types.len());
        for (field, kind) in format.fields().iter().zip(&types) {
            let name = column_name(*field);
            let builder = match kind {
                ColumnType::Int32 => Type::primitive_type_builder(&name, PhysicalType::INT32),
                ColumnType::Int64 => Type::primitive_type_builder(&name, PhysicalType::INT64),
                ColumnType::String => Type::primitive_type_builder(&name, PhysicalType::BYTE_ARRAY)
                    .with_logical_type(Some(LogicalType::String)),
            };
            let column = builder
                .with_repetition(Repetition::OPTIONAL)
                .build()
                .map_err(invalid)?;
            columns.push(Arc::new(column));
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(columns)
            .build()
            .map_err(invalid)?;
        let compression = match options.compression {
            ParquetCompression::None => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Gzip => {
                Compression::GZIP(GzipLevel::try_new(gzip_level).map_err(invalid)?)
            }
            ParquetCompression::Zstd => Compression::ZSTD(parquet::basic::ZstdLevel::default()),
        };
        let properties = WriterProperties::builder()
            .set_compression(compression)
            .set_created_by("flowlog-emulator (parquet-rs)".to_owned())
            .build();
        Ok(Self {
            schema: Arc::new(schema),
            properties: Arc::new(properties),
            types,
            row_group_rows: options.row_group_rows,
        })
    }
}

/// One column's values of the row group being filled.
enum Values {
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    /// Every string back to back, and where each ends.
    String {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
}

struct Column {
    values: Values,
    /// 1 for a value, 0 for a null.
    definitions: Vec<i16>,
}

/// One Parquet file being written.
pub(crate) struct ParquetFile {
    writer: SerializedFileWriter<Vec<u8>>,
    columns: Vec<Column>,
    rows: usize,
    row_group_rows: usize,
}

const WRITE_IN_MEMORY: &str =
    "writing Parquet into memory cannot fail: schema, values and levels are built together";

impl ParquetFile {
    pub(crate) fn new(layout: &ParquetLayout) -> Self {
        let writer = SerializedFileWriter::new(
            Vec::with_capacity(64 * 1024),
            layout.schema.clone(),
            layout.properties.clone(),
        )
        .expect(WRITE_IN_MEMORY);
        let columns = layout
            .types
            .iter()
            .map(|kind| Column {
                values: match kind {
                    ColumnType::Int32 => Values::Int32(Vec::new()),
                    ColumnType::Int64 => Values::Int64(Vec::new()),
                    ColumnType::String => Values::String {
                        data: Vec::new(),
                        ends: Vec::new(),
                    },
                },
                definitions: Vec::new(),
            })
            .collect();
        Self {
            writer,
            columns,
            rows: 0,
            row_group_rows: layout.row_group_rows,
        }
    }

    /// Adds one row: the tokens of a text line (without its newline), `-` as null.
    pub(crate) fn add_line(&mut self, line: &[u8]) {
        let mut tokens = line.split(|b| *b == b' ');
        for column in &mut self.columns {
            let token = tokens.next().unwrap_or(b"-");
            if token == b"-" {
                column.definitions.push(0);
                continue;
            }
            column.definitions.push(1);
            match &mut column.values {
                Values::Int32(v) => {
                    let value = parse_int(token);
                    debug_assert!(i32::try_from(value).is_ok(), "{value} in an INT32 column");
                    v.push(i32::try_from(value).unwrap_or(i32::MAX));
                }
                Values::Int64(v) => v.push(parse_int(token)),
                Values::String { data, ends } => {
                    data.extend_from_slice(token);
                    ends.push(data.len());
                }
            }
        }
        self.rows += 1;
        if self.rows >= self.row_group_rows {
            self.flush_row_group();
        }
    }

    fn flush_row_group(&mut self) {
        if self.rows == 0 {
            return;
        }
        let mut group = self.writer.next_row_group().expect(WRITE_IN_MEMORY);
        for column in &mut self.columns {
            let mut writer = group
                .next_column()
                .expect(WRITE_IN_MEMORY)
                .expect("the schema has one column per buffer");
            let definitions = Some(column.definitions.as_slice());
            match &mut column.values {
                Values::Int32(v) => {
                    writer
                        .typed::<Int32Type>()
                        .write_batch(v, definitions, None)
                        .expect(WRITE_IN_MEMORY);
                    v.clear();
                }
                Values::Int64(v) => {
                    writer
                        .typed::<Int64Type>()
                        .write_batch(v, definitions, None)
                        .expect(WRITE_IN_MEMORY);
                    v.clear();
                }
                Values::String { data, ends } => {
                    let capacity = data.capacity();
                    let bytes = Bytes::from(std::mem::replace(data, Vec::with_capacity(capacity)));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let value = ByteArray::from(bytes.slice(start..end));
                            start = end;
                            value
                        })
                        .collect();
                    writer
                        .typed::<ByteArrayType>()
                        .write_batch(&values, definitions, None)
                        .expect(WRITE_IN_MEMORY);
                    ends.clear();
                }
            }
            column.definitions.clear();
            writer.close().expect(WRITE_IN_MEMORY);
        }
        group.close().expect(WRITE_IN_MEMORY);
        self.rows = 0;
    }

    /// Writes the last row group and the footer; returns the file.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush_row_group();
        self.writer.into_inner().expect(WRITE_IN_MEMORY)
    }
}

/// A decimal integer of the generator's own text (always well formed; `-` never reaches here).
fn parse_int(token: &[u8]) -> i64 {
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let mut value: i64 = 0;
    for b in digits {
        debug_assert!(b.is_ascii_digit(), "not an integer: {token:?}");
        value = value
            .wrapping_mul(10)
            .wrapping_add(i64::from(b.wrapping_sub(b'0')));
    }
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_str_parse() {
        for text in ["0", "7", "65535", "-3", "1768464000", "9223372036854775807"] {
            assert_eq!(
                Some(parse_int(text.as_bytes())),
                text.parse().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn column_types_follow_aws() {
        let table = [
            (Field::Version, ResourceType::Vpc, ColumnType::Int32),
            (Field::Protocol, ResourceType::Vpc, ColumnType::Int32),
            (
                Field::Protocol,
                ResourceType::TransitGateway,
                ColumnType::Int64,
            ),
            (
                Field::TcpFlags,
                ResourceType::TransitGateway,
                ColumnType::Int32,
            ),
            (Field::Bytes, ResourceType::Vpc, ColumnType::Int64),
            (
                Field::PacketsLostTtlExpired,
                ResourceType::TransitGateway,
                ColumnType::Int64,
            ),
            (Field::AccountId, ResourceType::Vpc, ColumnType::String),
            (Field::TrafficPath, ResourceType::Vpc, ColumnType::Int32),
            (
                Field::TgwSrcEni,
                ResourceType::TransitGateway,
                ColumnType::String,
            ),
        ];
        for (field, resource, kind) in table {
            assert_eq!(column_type(field, resource), kind, "{field} in {resource}");
        }
        assert_eq!(column_name(Field::PktSrcAwsService), "pkt_src_aws_service");
    }
}
