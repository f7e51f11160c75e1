//! Minimal JSON writing straight into a byte buffer (no intermediate values).

/// Appends `s` as a JSON string literal (quotes included).
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    write_str_content(buf, s);
    buf.push(b'"');
}

/// Whether any byte of `bytes` must be escaped inside a JSON string. Written without an early
/// exit so it vectorises: one pass over a whole line is cheaper than one per value.
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Appends `s` escaped for the inside of a JSON string (no quotes).
pub(crate) fn write_str_content(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        buf.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(escape);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// The bytes `"key":` for a field name, rendered once per object.
pub(crate) fn key_prefix(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 3);
    write_str(&mut out, key);
    out.push(b':');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_escape_exactly_like_serde_json() {
        for s in [
            "plain",
            "quo\"te",
            "back\\slash",
            "tab\tnl\n",
            "\u{1}\u{1f}",
            "é ☃",
            "",
        ] {
            let mut buf = Vec::new();
            super::write_str(&mut buf, s);
            let expected = serde_json::to_string(s).expect("serialize");
            assert_eq!(String::from_utf8_lossy(&buf), expected, "input {s:?}");
        }
    }
}
