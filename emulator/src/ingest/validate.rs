//! Validation of one `POST /upload` the way Site24x7 answers it.
//!
//! Pure functions over headers and body bytes, so every rejection is table-testable.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use http::HeaderMap;
use serde_json::Value;

/// What the mock expects from every upload (the configured account).
#[derive(Debug, Clone)]
pub(crate) struct Expectations {
    /// The only accepted `X-DeviceKey`.
    pub device_key: String,
    /// The only accepted `X-LogType`.
    pub log_type: String,
    /// Largest accepted body, compressed and uncompressed.
    pub max_body_bytes: usize,
    /// Check headers and the gzip magic only; keep nothing (benchmark sink).
    pub discard_bodies: bool,
}

/// An accepted upload.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The records, in order, as received.
    pub records: Vec<Value>,
    /// Uncompressed JSON size.
    pub raw_bytes: u64,
    /// The `Log-Size` header.
    pub log_size: u64,
}

/// Why an upload was refused, and how Site24x7 would say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// HTTP status.
    pub status: u16,
    /// A Site24x7 flag header (`invalid_account`, `invalid_logtype`) set to `True`.
    pub flag: Option<&'static str>,
    /// A plain-text explanation for humans.
    pub message: String,
}

impl Rejection {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            flag: None,
            message: message.into(),
        }
    }
    fn flagged(flag: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            flag: Some(flag),
            message: message.into(),
        }
    }
    fn too_large(message: impl Into<String>) -> Self {
        Self {
            status: 413,
            flag: None,
            message: message.into(),
        }
    }
    fn media(message: impl Into<String>) -> Self {
        Self {
            status: 415,
            flag: None,
            message: message.into(),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Rejection> {
    let value = headers
        .get(name)
        .ok_or_else(|| Rejection::bad(format!("missing header {name}")))?;
    value
        .to_str()
        .map_err(|_| Rejection::bad(format!("header {name} is not visible ASCII")))
}

/// Checks the headers, before the body is read (so a wrong key costs nothing).
pub(crate) fn check_headers(headers: &HeaderMap, expect: &Expectations) -> Result<u64, Rejection> {
    // The key is a secret: never echo it back.
    if header(headers, "x-devicekey")? != expect.device_key {
        return Err(Rejection::flagged(
            "invalid_account",
            "unknown device key (X-DeviceKey)",
        ));
    }
    let log_type = header(headers, "x-logtype")?;
    if log_type != expect.log_type {
        return Err(Rejection::flagged(
            "invalid_logtype",
            format!("unknown log type {log_type:?} (X-LogType)"),
        ));
    }
    header(headers, "x-streammode")?;
    header(headers, "user-agent")?;
    let log_size = header(headers, "log-size")?;
    let log_size: u64 = log_size.trim().parse().map_err(|_| {
        Rejection::bad(format!(
            "header Log-Size {log_size:?} is not a non-negative integer"
        ))
    })?;
    let content_type = header(headers, "content-type")?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(Rejection::media(format!(
            "Content-Type {content_type:?} is not application/json"
        )));
    }
    let encoding = header(headers, "content-encoding")?;
    if !encoding.eq_ignore_ascii_case("gzip") {
        return Err(Rejection::media(format!(
            "Content-Encoding {encoding:?} is not gzip"
        )));
    }
    Ok(log_size)
}

/// The cheap check of a discarding mock: the body starts with gzip's magic bytes.
pub(crate) fn check_gzip_magic(body: &[u8]) -> Result<(), Rejection> {
    if body.starts_with(&[0x1f, 0x8b]) {
        Ok(())
    } else {
        Err(Rejection::bad(
            "body is not gzip (no 1f 8b magic): send the JSON array gzip-compressed",
        ))
    }
}

/// Gunzips and checks the body: a JSON array of objects with `_zl_timestamp` and `s247agentuid`.
pub(crate) fn check_body(
    body: &[u8],
    log_size: u64,
    expect: &Expectations,
) -> Result<Accepted, Rejection> {
    let limit = expect.max_body_bytes;
    let mut raw = Vec::new();
    MultiGzDecoder::new(body)
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(|e| Rejection::bad(format!("body is not valid gzip: {e}")))?;
    if raw.len() > limit {
        return Err(Rejection::too_large(format!(
            "uncompressed body exceeds {limit} bytes: send smaller batches"
        )));
    }
    let value: Value = serde_json::from_slice(&raw)
        .map_err(|e| Rejection::bad(format!("body is not JSON: {e}")))?;
    let Value::Array(records) = value else {
        return Err(Rejection::bad("body is not a JSON array of records"));
    };
    for (i, record) in records.iter().enumerate() {
        check_record(i, record)?;
    }
    Ok(Accepted {
        records,
        raw_bytes: raw.len() as u64,
        log_size,
    })
}

fn check_record(i: usize, record: &Value) -> Result<(), Rejection> {
    let Value::Object(fields) = record else {
        return Err(Rejection::bad(format!("record {i} is not a JSON object")));
    };
    match fields.get("_zl_timestamp") {
        Some(Value::Number(n)) if n.is_u64() => {}
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {}
        Some(other) => {
            return Err(Rejection::bad(format!(
                "record {i}: _zl_timestamp {other} is not epoch milliseconds (integer or digit string)"
            )));
        }
        None => return Err(Rejection::bad(format!("record {i} has no _zl_timestamp"))),
    }
    match fields.get("s247agentuid") {
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(Rejection::bad(format!(
            "record {i}: s247agentuid {other} is not a string"
        ))),
        None => Err(Rejection::bad(format!("record {i} has no s247agentuid"))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};
    use serde_json::json;

    use super::*;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        let _ = enc.write_all(bytes);
        enc.finish().unwrap_or_default()
    }

    fn expect() -> Expectations {
        Expectations {
            device_key: "k".into(),
            log_type: "t".into(),
            max_body_bytes: 1000,
            discard_bodies: false,
        }
    }

    #[test]
    fn bodies_are_judged_like_site24x7() {
        let ok = r#"[{"_zl_timestamp":1,"s247agentuid":"b"},{"_zl_timestamp":"1000","s247agentuid":"b"}]"#;
        let cases: [(&[u8], Option<u16>); 8] = [
            (ok.as_bytes(), None),
            (b"[]", None),
            (b"{}", Some(400)),
            (b"not json", Some(400)),
            (br#"[1]"#, Some(400)),
            (br#"[{"s247agentuid":"b"}]"#, Some(400)),
            (
                br#"[{"_zl_timestamp":"12a","s247agentuid":"b"}]"#,
                Some(400),
            ),
            (br#"[{"_zl_timestamp":1}]"#, Some(400)),
        ];
        for (body, status) in cases {
            let got = check_body(&gz(body), 0, &expect()).err().map(|r| r.status);
            assert_eq!(got, status, "{}", String::from_utf8_lossy(body));
        }
        let big = json!([{"_zl_timestamp":1,"s247agentuid":"x".repeat(2000)}]).to_string();
        let got = check_body(&gz(big.as_bytes()), 0, &expect())
            .err()
            .map(|r| r.status);
        assert_eq!(got, Some(413));
        let got = check_body(ok.as_bytes(), 0, &expect())
            .err()
            .map(|r| r.status);
        assert_eq!(got, Some(400), "plain JSON is not gzip");
    }
}
