//! The bound on XML request bodies, enforced before `s3s` reads one: every request whose body
//! S3 parses as a document (CompleteMultipartUpload, PutBucketNotificationConfiguration,
//! DeleteObjects, tagging, ACLs, …) is buffered up to [`MAX_XML_BODY`] and refused with S3's
//! `MaxMessageLengthExceeded` beyond it. Object data (PutObject, UploadPart, POST uploads) is
//! not XML and is bounded by the object size cap instead.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use s3s::{S3Error, S3ErrorCode};

/// Largest XML request body accepted: 4 MiB, room for a CompleteMultipartUpload of S3's
/// 10,000 parts with checksums (about 1.5 MB) and any notification configuration.
pub(crate) const MAX_XML_BODY: usize = 4 << 20;

/// The most of an untrusted body a log line shows; the rest is counted, not printed.
const LOG_EXCERPT: usize = 256;

/// Whether S3 reads this request's body as an XML (or JSON policy) document rather than as
/// object data. Path-style addressing: `/bucket` or `/bucket/key`.
pub(crate) fn carries_document<B>(req: &http::Request<B>) -> bool {
    let path = req.uri().path().trim_start_matches('/');
    let has_key = path.split_once('/').is_some_and(|(_, key)| !key.is_empty());
    let method = req.method();
    if !has_key {
        // POST /bucket with a form is a browser upload (object data); the rest are documents.
        let form = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        return !(method == http::Method::POST && form);
    }
    if method != http::Method::PUT {
        // POST on a key: CompleteMultipartUpload, restore, select (documents) or an empty
        // CreateMultipartUpload; GET, HEAD and DELETE carry no body worth reading.
        return method == http::Method::POST;
    }
    // PUT on a key is object data (PutObject, UploadPart, copies) unless it names a
    // subresource such as `?tagging` or `?acl`.
    let query = req.uri().query().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
        .any(|name| {
            !matches!(name, "partNumber" | "uploadId" | "x-id")
                && !name.to_ascii_lowercase().starts_with("x-amz-")
        })
}

/// Reads a document body of at most [`MAX_XML_BODY`] bytes; a declared or actual larger one
/// is refused without reading further.
pub(crate) async fn read_document(
    req: http::Request<Incoming>,
) -> Result<(http::Request<s3s::Body>, Bytes), S3Error> {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > MAX_XML_BODY as u64
    {
        return Err(too_big(&format!("{len} bytes")));
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_XML_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(too_big(&format!("more than {MAX_XML_BODY} bytes")));
        }
        Err(e) => {
            return Err(S3Error::with_message(
                S3ErrorCode::IncompleteBody,
                format!("failed to read the request body: {e}"),
            ));
        }
    };
    Ok((
        http::Request::from_parts(parts, s3s::Body::from(bytes.clone())),
        bytes,
    ))
}

fn too_big(size: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MaxMessageLengthExceeded,
        format!(
            "Your request was too big: its XML body is {size}, over the limit of {MAX_XML_BODY} bytes (4 MiB) for an XML request body"
        ),
    )
}

/// At most [`LOG_EXCERPT`] bytes of a body for a log line, the rest marked `…(+N bytes)`.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.len() <= LOG_EXCERPT {
        return String::from_utf8_lossy(body).into_owned();
    }
    let shown = String::from_utf8_lossy(&body[..LOG_EXCERPT]);
    format!("{shown}…(+{} bytes)", body.len() - LOG_EXCERPT)
}

/// S3's own message for an error code that `s3s` answers without one.
pub(crate) fn standard_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our published schema"
        }
        "InvalidBucketName" => "The specified bucket is not valid.",
        "MissingRequestBodyError" => "Request Body is empty",
        "IncompleteBody" => {
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_documents_from_object_data() {
        let cases = [
            ("PUT", "/b/k", "", false),
            (
                "PUT",
                "/b/k",
                "partNumber=1&uploadId=u&x-id=UploadPart",
                false,
            ),
            ("PUT", "/b/k", "X-Amz-Signature=s&X-Amz-Date=d", false),
            ("PUT", "/b/k", "tagging", true),
            ("PUT", "/b/k", "acl=", true),
            ("POST", "/b/k", "uploadId=u", true),
            ("GET", "/b/k", "", false),
            ("PUT", "/b", "notification", true),
            ("PUT", "/b", "", true),
            ("POST", "/b", "delete", true),
        ];
        for (method, path, query, expected) in cases {
            let uri = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            let req = http::Request::builder()
                .method(method)
                .uri(uri.as_str())
                .body(())
                .unwrap_or_default();
            assert_eq!(carries_document(&req), expected, "{method} {uri}");
        }
    }

    #[test]
    fn a_long_body_is_cut_with_a_marker() {
        let body = vec![b'x'; 10_000];
        let line = excerpt(&body);
        assert!(line.len() < 300, "{}", line.len());
        assert!(line.ends_with("…(+9744 bytes)"), "{line}");
        assert_eq!(excerpt(b"<a/>"), "<a/>");
    }
}
