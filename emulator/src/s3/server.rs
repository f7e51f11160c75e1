//! Serving the S3 backend over TCP: hyper-util's auto (HTTP/1 + HTTP/2) connection builder on a
//! bound tokio listener, a request id per request, bodies sent with chunked transfer encoding
//! and no length, and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::auth::EmulatorAuth;
use super::backend::{Backend, RequestContext};
use super::bucket_name::{self, S3BucketNames};
use super::settings::S3Settings;
use super::xml_body;
use crate::notify::Notifier;

/// How long in-flight requests get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(5);

/// Why the S3 server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address is taken or not allowed.
    #[error(
        "cannot listen on {addr} for the emulated S3: {source} (choose another --s3-addr, or port 0)"
    )]
    Bind {
        /// The address that was requested.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// A running emulated S3; dropping it stops the server (in-flight requests get a grace period).
#[derive(Debug)]
pub struct S3Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl S3Server {
    /// Binds `addr` (port 0 picks a free port) and starts serving in the background.
    ///
    /// # Errors
    /// [`ServeError::Bind`] when the address cannot be bound.
    pub async fn start(
        addr: SocketAddr,
        settings: S3Settings,
        notifier: Notifier,
    ) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Self::serve(listener, local, settings, notifier))
    }

    /// Serves on an already bound listener (tests and callers that bind first).
    #[must_use]
    pub fn serve(
        listener: TcpListener,
        local: SocketAddr,
        settings: S3Settings,
        notifier: Notifier,
    ) -> Self {
        let limits = Limits {
            latency: settings.latency,
            max_body: settings.max_object_size,
            header_read_timeout: settings.header_read_timeout,
        };
        let service = build_service(settings, notifier);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, service, limits, shutdown.clone()));
        tracing::info!(addr = %local, "emulated S3 listening");
        Self {
            addr: local,
            shutdown,
            task: Some(task),
        }
    }

    /// The bound socket address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for clients, e.g. `http://127.0.0.1:41001`.
    #[must_use]
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (up to a grace period), then returns.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "emulated S3 accept loop ended abnormally");
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The emulated S3 as an `s3s` service without a socket: for in-process clients such as
/// `s3s_aws::Client::from(service)` (fast tests), or for serving it in another HTTP stack.
#[must_use]
pub fn build_service(settings: S3Settings, notifier: Notifier) -> S3Service {
    let auth = EmulatorAuth::new(&settings.access_key, &settings.secret_key);
    let mut builder = S3ServiceBuilder::new(Backend::new(Arc::new(settings), notifier));
    builder.set_auth(auth);
    builder.set_validation(S3BucketNames);
    // The same bound s3s applies when it is served without this module's server layer.
    let mut config = s3s::config::S3Config::default();
    config.xml_max_body_size = xml_body::MAX_XML_BODY;
    builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
        config,
    ))));
    builder.build()
}

/// What the connection layer applies to every request.
#[derive(Debug, Clone, Copy)]
struct Limits {
    latency: Duration,
    /// The largest body buffered for a request sent without a length.
    max_body: u64,
    /// Time a client gets to send a request's headers before its connection is closed.
    header_read_timeout: Duration,
}

async fn accept_loop(
    listener: TcpListener,
    service: S3Service,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper never times out a request whose headers stop arriving.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly instead of spinning.
                tracing::warn!(error = %e, "emulated S3 failed to accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let svc = service.clone();
        let handler = hyper::service::service_fn(move |req| handle(svc.clone(), peer, limits, req));
        let conn = builder
            .serve_connection(TokioIo::new(stream), handler)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "emulated S3 connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => tracing::warn!("emulated S3 shut down with requests still in flight"),
    }
}

fn new_request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

fn new_host_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
}

/// Runs one request through s3s with a fresh request id, which it also puts in the response
/// headers and, for errors, in the XML body (`<RequestId>` matches `x-amz-request-id`).
async fn handle(
    service: S3Service,
    peer: SocketAddr,
    limits: Limits,
    mut req: http::Request<Incoming>,
) -> Result<http::Response<s3s::Body>, Infallible> {
    if !limits.latency.is_zero() {
        tokio::time::sleep(limits.latency).await;
    }
    let ctx = RequestContext {
        request_id: new_request_id(),
        host_id: new_host_id(),
        peer,
    };
    req.extensions_mut().insert(ctx.clone());
    if let Some(err) = invalid_bucket(&req) {
        return Ok(error_response(err, &ctx).await);
    }
    // A document's body is read (bounded) here, so s3s never buffers an unbounded one and a
    // malformed one can be logged as an excerpt.
    let mut document = None;
    let req = if xml_body::carries_document(&req) {
        match xml_body::read_document(req).await {
            Ok((req, bytes)) => {
                document = Some(bytes);
                req
            }
            Err(err) => return Ok(error_response(err, &ctx).await),
        }
    } else if sent_without_length(&req) {
        match with_buffered_body(req, limits.max_body).await {
            Ok(req) => req,
            Err(err) => return Ok(error_response(err, &ctx).await),
        }
    } else {
        req.map(s3s::Body::from)
    };
    let mut resp = match service.call(req).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::warn!(error = ?e, "emulated S3 could not turn a request into a response");
            let mut err = s3s::S3Error::with_message(
                s3s::S3ErrorCode::InternalError,
                "the emulator failed to answer",
            );
            err.set_request_id(ctx.request_id.clone());
            err.to_http_response().unwrap_or_else(|_| {
                let mut r = http::Response::new(s3s::Body::empty());
                *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                r
            })
        }
    };
    let headers = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&ctx.request_id) {
        headers.insert("x-amz-request-id", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&ctx.host_id) {
        headers.insert("x-amz-id-2", v);
    }
    if resp.status().is_client_error() || resp.status().is_server_error() {
        let code;
        (resp, code) = with_request_id_in_error(resp, &ctx).await;
        if code.as_deref() == Some("MalformedXML")
            && let Some(body) = document
        {
            tracing::warn!(
                request_id = %ctx.request_id,
                bytes = body.len(),
                excerpt = %xml_body::excerpt(&body),
                "emulated S3 refused a malformed XML body"
            );
        }
    }
    Ok(resp)
}

/// `InvalidBucketName` naming the broken rule, for a path-style request whose bucket S3
/// would refuse.
fn invalid_bucket<B>(req: &http::Request<B>) -> Option<s3s::S3Error> {
    let path = req.uri().path().trim_start_matches('/');
    let bucket = path.split('/').next().filter(|b| !b.is_empty())?;
    let reason = bucket_name::check(bucket).err()?;
    Some(s3s::S3Error::with_message(
        s3s::S3ErrorCode::InvalidBucketName,
        format!(
            "The specified bucket is not valid: the name \"{}\" {reason}",
            xml_body::excerpt(bucket.as_bytes())
        ),
    ))
}

/// Whether a request streams a body with chunked transfer encoding and no `Content-Length`
/// (other than SigV4's own `aws-chunked` streaming, whose decoded length is declared).
fn sent_without_length(req: &http::Request<Incoming>) -> bool {
    let headers = req.headers();
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|s| s.to_ascii_lowercase().contains("chunked"))
        });
    let aws_streaming = headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
    chunked && !aws_streaming && !headers.contains_key(http::header::CONTENT_LENGTH)
}

/// Reads a length-less body into memory (up to the object size cap), so the S3 layer sees a
/// body of known length, as it requires.
async fn with_buffered_body(
    req: http::Request<Incoming>,
    cap: u64,
) -> Result<http::Request<s3s::Body>, s3s::S3Error> {
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(cap).unwrap_or(usize::MAX);
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::EntityTooLarge,
                format!(
                    "Your proposed upload exceeds the emulator's maximum object size of {cap} bytes; raise it with --max-object-size"
                ),
            ));
        }
        Err(e) => {
            return Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::IncompleteBody,
                format!("failed to read the chunked request body: {e}"),
            ));
        }
    };
    Ok(http::Request::from_parts(parts, s3s::Body::from(bytes)))
}

/// An S3 error document for an error raised before the request reached s3s.
async fn error_response(err: s3s::S3Error, ctx: &RequestContext) -> http::Response<s3s::Body> {
    let mut resp = err.to_http_response().unwrap_or_else(|_| {
        let mut r = http::Response::new(s3s::Body::empty());
        *r.status_mut() = http::StatusCode::BAD_REQUEST;
        r
    });
    let headers = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&ctx.request_id) {
        headers.insert("x-amz-request-id", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&ctx.host_id) {
        headers.insert("x-amz-id-2", v);
    }
    with_request_id_in_error(resp, ctx).await.0
}

/// Adds `<RequestId>`/`<HostId>` to an error document, and S3's own `<Message>` where s3s
/// left it out; returns the document's `<Code>`.
async fn with_request_id_in_error(
    resp: http::Response<s3s::Body>,
    ctx: &RequestContext,
) -> (http::Response<s3s::Body>, Option<String>) {
    let (mut parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "could not buffer an S3 error body");
            Bytes::new()
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let code = element(&text, "Code").map(str::to_owned);
    let mut extra = String::new();
    if !text.contains("<Message>")
        && let Some(message) = code.as_deref().and_then(xml_body::standard_message)
    {
        extra.push_str(&format!("<Message>{message}</Message>"));
    }
    if !text.contains("<RequestId>") {
        extra.push_str(&format!(
            "<RequestId>{}</RequestId><HostId>{}</HostId>",
            ctx.request_id, ctx.host_id
        ));
    }
    let rewritten = match text.rfind("</Error>") {
        Some(at) => format!("{}{}{}", &text[..at], extra, &text[at..]),
        None => text.into_owned(),
    };
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(rewritten.len()),
    );
    (
        http::Response::from_parts(parts, s3s::Body::from(rewritten)),
        code,
    )
}

/// The text of the first `<name>…</name>` element of a small, trusted document.
fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{name}>"))?;
    Some(&text[start..start + len])
}
