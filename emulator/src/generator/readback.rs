//! The text an object stands for, whatever its file format: the gzip text itself, or for a
//! Parquet object the header (column names with `_` → `-`) and one line per row, values as the
//! text shows them and nulls as `-`. Ground-truth checks read objects back through this.

use std::io::Read as _;

use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use parquet::file::reader::FileReader as _;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::record::Field;

use super::error::ReadBackError;

/// The text of an object body: gzip (by its magic bytes), Parquet (by `PAR1`), else plain text.
///
/// # Errors
/// [`ReadBackError`] when the body does not decode, or a Parquet column holds a type flow logs
/// do not use.
pub fn object_text(body: &[u8]) -> Result<String, ReadBackError> {
    if body.starts_with(b"PAR1") {
        return parquet_text(body);
    }
    let mut text = String::new();
    if body.starts_with(&[0x1f, 0x8b]) {
        MultiGzDecoder::new(body)
            .read_to_string(&mut text)
            .map_err(ReadBackError::Gzip)?;
    } else {
        text = String::from_utf8(body.to_vec())
            .map_err(|e| ReadBackError::Text(e.utf8_error().to_string()))?;
    }
    Ok(text)
}

fn parquet_text(body: &[u8]) -> Result<String, ReadBackError> {
    let bad = |e: parquet::errors::ParquetError| ReadBackError::Parquet(e.to_string());
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(body)).map_err(bad)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let header: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| c.name().replace('_', "-"))
        .collect();
    let mut text = header.join(" ");
    text.push('\n');
    for row in reader.get_row_iter(None).map_err(bad)? {
        let row = row.map_err(bad)?;
        for (i, (name, value)) in row.get_column_iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            match value {
                Field::Null => text.push('-'),
                Field::Int(v) => text.push_str(&v.to_string()),
                Field::Long(v) => text.push_str(&v.to_string()),
                Field::Str(v) => text.push_str(v),
                other => {
                    return Err(ReadBackError::Parquet(format!(
                        "column {name} holds {other:?}; flow logs use INT32, INT64 and STRING"
                    )));
                }
            }
        }
        text.push('\n');
    }
    Ok(text)
}
