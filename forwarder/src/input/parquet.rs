//! Parquet objects, as the VPC Flow Logs service writes them: the footer first (one ranged
//! read), then one row group at a time (one ranged read each), each row turned into the same
//! field values the text line of the same flow has.
//!
//! Columns are flow-log fields named as in text (`tcp-flags`) or with `_` (`tcp_flags`, what
//! AWS's Athena tables use), in any subset and order. AWS types them INT32, INT64 or STRING;
//! integers are rendered as text shows them, null (or an empty string) as `-`. The values then
//! go through the same [`ObjectParser`](crate::object::ObjectParser) as a text line, so the
//! record is the same record, key for key, and filters, masking and derived fields behave the
//! same.
//!
//! Only the `parquet` crate's low layers are used (footer decoding, page decompression, typed
//! column readers): rows are assembled here straight into one reused line buffer.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{ConvertedType, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, Int32Type, Int64Type};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, RowGroupMetaData};
use parquet::file::properties::ReaderProperties;
use parquet::file::reader::{ChunkReader, Length, RowGroupReader};
use parquet::file::serialized_reader::SerializedRowGroupReader;
use parquet::schema::types::ColumnDescriptor;

use super::ReadError;
use super::drive::Driver;
use super::ranges::RangeSource;
use crate::flowlog::{self, FieldType, FlowFormat};
use crate::input::BatchSink;
use crate::records::Span;

/// Largest footer (file metadata) read: 16 MiB. A flow-log file's footer is a few KiB.
pub const MAX_FOOTER_BYTES: usize = 16 << 20;

/// Largest row group read (compressed bytes): 256 MiB, held in memory while its rows are read.
pub const MAX_ROW_GROUP_BYTES: u64 = 256 << 20;

/// The footer and the magic bytes around it.
const TAIL: usize = 8;
/// Bytes read from the end at first: the footer usually fits, so one request does.
const FIRST_TAIL_READ: u64 = 64 * 1024;
/// Rows decoded per column at a time.
const ROWS_PER_STEP: usize = 1024;

/// What is wrong with a Parquet object.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// Too short, or without `PAR1` at its end: truncated, or not Parquet.
    #[error(
        "not a whole Parquet file: {0}; if it was cut short, the writer may still be writing it"
    )]
    NotParquet(String),
    /// The footer (schema and row-group offsets) cannot be decoded.
    #[error("the Parquet footer cannot be decoded: {0}")]
    Footer(String),
    /// A column the reader cannot turn into flow-log values.
    #[error(
        "column `{column}`: {problem}; flow-log columns are INT32, INT64 or STRING (AWS's types)"
    )]
    Column {
        /// The column's name.
        column: String,
        /// What is wrong.
        problem: String,
    },
    /// Two columns give the same field (`tcp-flags` and `tcp_flags`).
    #[error("columns name field `{0}` twice")]
    DuplicateField(String),
    /// A row group that cannot be read.
    #[error("row group {row_group}: {problem}")]
    RowGroup {
        /// Its 0-based index.
        row_group: usize,
        /// What is wrong.
        problem: String,
    },
    /// The bytes could not be fetched.
    #[error("{0}")]
    Read(io::Error),
}

/// Reads a whole Parquet object from `source` through `driver`.
pub(super) fn read(
    source: &dyn RangeSource,
    driver: &mut Driver<'_, '_, impl BatchSink>,
) -> Result<(), ReadError> {
    // The crate's decoders may still panic on a hostile file somewhere this module does not
    // check first: that is a damaged object, not a crashed process.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_file(source, driver)))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a decoder failed");
            Err(ParquetError::Footer(format!(
                "the Parquet reader failed: {message}"
            )))
        });
    read.map_err(|error| {
        let source = match error {
            ParquetError::Read(io) => io,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        };
        ReadError {
            what: "reading Parquet",
            line: driver.parser.accounting().lines,
            source,
        }
    })
}

fn read_file(
    source: &dyn RangeSource,
    driver: &mut Driver<'_, '_, impl BatchSink>,
) -> Result<(), ParquetError> {
    let metadata = footer(source)?;
    let schema = metadata.file_metadata().schema_descr();
    let columns = schema
        .columns()
        .iter()
        .map(|descr| ColumnPlan::new(descr))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = columns.iter().map(|c| c.field.clone()).collect();
    let format = FlowFormat::from_fields(names).map_err(|e| match e {
        flowlog::FormatError::Duplicate(name) => ParquetError::DuplicateField(name),
        other => ParquetError::Footer(other.to_string()),
    })?;
    driver.parser.use_format(format);
    let props = Arc::new(
        ReaderProperties::builder()
            .set_read_bloom_filter(false)
            .build(),
    );
    let mut row = RowBuffer::default();
    for (index, group) in metadata.row_groups().iter().enumerate() {
        let fail = |problem: String| ParquetError::RowGroup {
            row_group: index,
            problem,
        };
        let bytes = fetch_row_group(source, group).map_err(|e| match e {
            ParquetError::RowGroup { problem, .. } => fail(problem),
            other => other,
        })?;
        let reader = SerializedRowGroupReader::new(
            Arc::new(bytes),
            group,
            metadata.page_index_for_row_group(index),
            Arc::clone(&props),
        )
        .map_err(|e| fail(e.to_string()))?;
        let mut readers = columns
            .iter()
            .enumerate()
            .map(|(i, plan)| {
                let column = reader
                    .get_column_reader(i)
                    .map_err(|e| fail(e.to_string()))?;
                ColumnValues::new(column, plan).ok_or_else(|| {
                    fail(format!(
                        "column `{}` does not decode as its schema type",
                        plan.name
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rows = u64::try_from(group.num_rows())
            .map_err(|_| fail(format!("negative row count {}", group.num_rows())))?;
        let mut left = rows;
        while left > 0 {
            let step = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(ROWS_PER_STEP);
            for (values, plan) in readers.iter_mut().zip(&columns) {
                let got = values
                    .read(step)
                    .map_err(|e| fail(format!("column `{}`: {e}", plan.name)))?;
                if got != step {
                    return Err(fail(format!(
                        "column `{}` ends after {} of {rows} rows",
                        plan.name,
                        rows - left + got as u64
                    )));
                }
            }
            for r in 0..step {
                row.assemble(&mut readers, &columns, r);
                let next = match std::str::from_utf8(&row.text) {
                    Ok(text) => {
                        driver.next(|parser, batcher| parser.feed_row(text, &row.spans, batcher))
                    }
                    Err(_) => driver.next(|parser, _| parser.feed_invalid_row()),
                };
                if next.is_break() {
                    return Ok(());
                }
            }
            left -= step as u64;
        }
    }
    Ok(())
}

/// Decodes the footer: the last 8 bytes give its length, one read usually gets it whole.
fn footer(source: &dyn RangeSource) -> Result<ParquetMetaData, ParquetError> {
    let size = source.len();
    if size < (TAIL + 4) as u64 {
        return Err(ParquetError::NotParquet(format!(
            "{size} bytes, too few for Parquet"
        )));
    }
    let first = FIRST_TAIL_READ.min(size);
    let tail = source
        .read_range(size - first, first as usize)
        .map_err(ParquetError::Read)?;
    let Some(end) = tail.len().checked_sub(TAIL).map(|at| &tail[at..]) else {
        return Err(ParquetError::NotParquet(
            "the end could not be read".to_owned(),
        ));
    };
    if &end[4..] != b"PAR1" {
        return Err(ParquetError::NotParquet(
            "it does not end with the magic bytes PAR1".to_owned(),
        ));
    }
    let length = u32::from_le_bytes([end[0], end[1], end[2], end[3]]) as usize;
    if length > MAX_FOOTER_BYTES {
        return Err(ParquetError::Footer(format!(
            "it says it is {length} bytes, over the limit of {MAX_FOOTER_BYTES}"
        )));
    }
    if (length + TAIL + 4) as u64 > size {
        return Err(ParquetError::NotParquet(format!(
            "its footer says {length} bytes, more than the file holds ({size})"
        )));
    }
    let bytes = if length + TAIL <= tail.len() {
        tail.slice(tail.len() - TAIL - length..tail.len() - TAIL)
    } else {
        source
            .read_range(size - (length + TAIL) as u64, length)
            .map_err(ParquetError::Read)?
    };
    let metadata = ParquetMetaDataReader::decode_metadata(&bytes)
        .map_err(|e| ParquetError::Footer(e.to_string()))?;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        check_chunks(group, size).map_err(|problem| ParquetError::RowGroup {
            row_group: index,
            problem,
        })?;
    }
    Ok(metadata)
}

/// Checks every column chunk's offsets against the file (the crate asserts on negative ones).
fn check_chunks(group: &RowGroupMetaData, size: u64) -> Result<(), String> {
    for column in group.columns() {
        let start = column
            .dictionary_page_offset()
            .unwrap_or_else(|| column.data_page_offset());
        let (Ok(start), Ok(len)) = (
            u64::try_from(start),
            u64::try_from(column.compressed_size()),
        ) else {
            return Err(format!(
                "column `{}` has a negative offset or size",
                column.column_path()
            ));
        };
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(format!(
                "column `{}` says bytes {start}..{} of a {size}-byte file",
                column.column_path(),
                start.saturating_add(len)
            ));
        }
    }
    Ok(())
}

/// One row group's column chunks, fetched in one read.
fn fetch_row_group(
    source: &dyn RangeSource,
    group: &RowGroupMetaData,
) -> Result<GroupBytes, ParquetError> {
    let ranges = group.columns().iter().map(|c| c.byte_range());
    let start = ranges.clone().map(|(s, _)| s).min().unwrap_or(0);
    let end = ranges.map(|(s, l)| s + l).max().unwrap_or(0);
    let len = end - start;
    if len > MAX_ROW_GROUP_BYTES {
        return Err(ParquetError::RowGroup {
            row_group: 0,
            problem: format!(
                "{len} bytes, over the limit of {MAX_ROW_GROUP_BYTES} held in memory at once; \
                 write smaller row groups"
            ),
        });
    }
    let bytes = source
        .read_range(start, len as usize)
        .map_err(ParquetError::Read)?;
    if (bytes.len() as u64) < len {
        return Err(ParquetError::NotParquet(format!(
            "the file ended inside a row group (bytes {start}..{end})"
        )));
    }
    Ok(GroupBytes {
        offset: start,
        bytes,
        file_len: source.len(),
    })
}

/// The bytes of one row group, answering the crate's reads at file offsets.
struct GroupBytes {
    offset: u64,
    bytes: Bytes,
    file_len: u64,
}

impl GroupBytes {
    fn slice_from(&self, start: u64, len: Option<usize>) -> parquet::errors::Result<Bytes> {
        let at = start
            .checked_sub(self.offset)
            .and_then(|at| usize::try_from(at).ok())
            .filter(|&at| at <= self.bytes.len());
        let Some(at) = at else {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "offset {start} is outside the row group's bytes"
            )));
        };
        let end = len.map_or(self.bytes.len(), |len| at.saturating_add(len));
        if end > self.bytes.len() {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "bytes {start}..{} are outside the row group's bytes",
                start + (end - at) as u64
            )));
        }
        Ok(self.bytes.slice(at..end))
    }
}

impl Length for GroupBytes {
    fn len(&self) -> u64 {
        self.file_len
    }
}

impl ChunkReader for GroupBytes {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use bytes::Buf as _;
        Ok(self.slice_from(start, None)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice_from(start, Some(length))
    }
}

/// How one column becomes a field's text.
struct ColumnPlan {
    /// The column's name in the file.
    name: String,
    /// The flow-log field it gives (hyphenated).
    field: String,
    /// Whether values may be null (definition level 1).
    optional: bool,
    /// Integers stored unsigned (`UINT_32`, `UINT_64`).
    unsigned: bool,
}

impl ColumnPlan {
    fn new(descr: &ColumnDescriptor) -> Result<Self, ParquetError> {
        let name = descr.name().to_owned();
        let problem = |problem: &str| ParquetError::Column {
            column: name.clone(),
            problem: problem.to_owned(),
        };
        if descr.path().parts().len() != 1 || descr.max_rep_level() > 0 {
            return Err(problem(
                "nested or repeated columns are not flow-log fields",
            ));
        }
        if descr.max_def_level() > 1 {
            return Err(problem("nested optional columns are not flow-log fields"));
        }
        let field = name.to_ascii_lowercase().replace('_', "-");
        let physical = descr.physical_type();
        let integer = matches!(physical, PhysicalType::INT32 | PhysicalType::INT64);
        let string = matches!(
            physical,
            PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY
        );
        let expected = flowlog::field(&field).map(|spec| spec.kind);
        let fits = match expected {
            Some(FieldType::Int32 | FieldType::Int64) => integer,
            Some(FieldType::String) => string,
            None => integer || string,
        };
        if !fits {
            let wanted = match expected {
                Some(FieldType::String) => "STRING",
                Some(_) => "INT32 or INT64",
                None => "INT32, INT64 or STRING",
            };
            return Err(problem(&format!(
                "stored as {physical}, where field `{field}` is {wanted}"
            )));
        }
        let converted = descr.converted_type();
        Ok(Self {
            name,
            field,
            optional: descr.max_def_level() == 1,
            unsigned: matches!(converted, ConvertedType::UINT_32 | ConvertedType::UINT_64),
        })
    }
}

/// One column's reader and the values of the rows decoded in the current step.
enum ColumnValues {
    Int32(Decoded<Int32Type>),
    Int64(Decoded<Int64Type>),
    Bytes(Decoded<parquet::data_type::ByteArrayType>),
    Fixed(Decoded<parquet::data_type::FixedLenByteArrayType>),
}

struct Decoded<T: DataType> {
    reader: ColumnReaderImpl<T>,
    values: Vec<T::T>,
    levels: Vec<i16>,
    /// Next value of `values` (values are dense: nulls have none).
    next: usize,
    optional: bool,
}

impl<T: DataType> Decoded<T> {
    fn new(reader: ColumnReaderImpl<T>, optional: bool) -> Self {
        Self {
            reader,
            values: Vec::with_capacity(ROWS_PER_STEP),
            levels: Vec::with_capacity(ROWS_PER_STEP),
            next: 0,
            optional,
        }
    }

    fn read(&mut self, rows: usize) -> parquet::errors::Result<usize> {
        self.values.clear();
        self.levels.clear();
        self.next = 0;
        let levels = self.optional.then_some(&mut self.levels);
        let (records, values, _) =
            self.reader
                .read_records(rows, levels, None, &mut self.values)?;
        if values > self.values.len() || (!self.optional && values != records) {
            return Err(parquet::errors::ParquetError::General(format!(
                "{values} values for {records} rows"
            )));
        }
        Ok(records)
    }

    /// The value of row `r` of the step (rows are taken in order), or `None` for null.
    fn take(&mut self, r: usize) -> Option<&T::T> {
        if self.optional && self.levels.get(r).copied().unwrap_or(0) < 1 {
            return None;
        }
        let value = self.values.get(self.next);
        self.next += 1;
        value
    }
}

impl ColumnValues {
    fn new(column: ColumnReader, plan: &ColumnPlan) -> Option<Self> {
        let optional = plan.optional;
        Some(match column {
            ColumnReader::Int32ColumnReader(r) => Self::Int32(Decoded::new(r, optional)),
            ColumnReader::Int64ColumnReader(r) => Self::Int64(Decoded::new(r, optional)),
            ColumnReader::ByteArrayColumnReader(r) => Self::Bytes(Decoded::new(r, optional)),
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                Self::Fixed(Decoded::new(r, optional))
            }
            _ => return None,
        })
    }

    fn read(&mut self, rows: usize) -> parquet::errors::Result<usize> {
        match self {
            Self::Int32(d) => d.read(rows),
            Self::Int64(d) => d.read(rows),
            Self::Bytes(d) => d.read(rows),
            Self::Fixed(d) => d.read(rows),
        }
    }
}

/// One row as text (values separated by spaces) and each value's span in it.
#[derive(Default)]
struct RowBuffer {
    text: Vec<u8>,
    spans: Vec<Span>,
}

impl RowBuffer {
    fn assemble(&mut self, columns: &mut [ColumnValues], plans: &[ColumnPlan], r: usize) {
        self.text.clear();
        self.spans.clear();
        let mut digits = itoa::Buffer::new();
        for (column, plan) in columns.iter_mut().zip(plans) {
            if !self.spans.is_empty() {
                self.text.push(b' ');
            }
            let start = self.text.len();
            let value: Option<&[u8]> = match column {
                Column::Int32(d) => d.take(r).map(|&v| {
                    if plan.unsigned {
                        digits.format(v.cast_unsigned()).as_bytes()
                    } else {
                        digits.format(v).as_bytes()
                    }
                }),
                Column::Int64(d) => d.take(r).map(|&v| {
                    if plan.unsigned {
                        digits.format(v.cast_unsigned()).as_bytes()
                    } else {
                        digits.format(v).as_bytes()
                    }
                }),
                Column::Bytes(d) => d.take(r).map(ByteArray::data),
                Column::Fixed(d) => d.take(r).map(|v| v.data()),
            };
            match value {
                Some(bytes) if !bytes.is_empty() => self.text.extend_from_slice(bytes),
                _ => self.text.push(b'-'),
            }
            self.spans.push((start, self.text.len()));
        }
    }
}

use ColumnValues as Column;
