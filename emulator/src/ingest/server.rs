//! The HTTP side of the mock: routing, the upload handler, and the accept loop.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::fault::{Effect, Fault, FaultBook};
use super::page;
use super::traffic::{self, Traffic};
use super::uploads::{Outcome, UploadEntry, UploadLog};
use super::validate::{self, Expectations, Rejection};

/// Counters of everything the mock saw since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// `POST /upload` requests received (faulted ones included).
    pub requests: u64,
    /// Responses by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Connections dropped on purpose by a `reset_connection` fault.
    pub connection_resets: u64,
    /// Records accepted and stored.
    pub records: u64,
    /// Uncompressed JSON bytes of accepted uploads.
    pub raw_bytes: u64,
    /// Gzip bytes of accepted uploads, as received.
    pub gzip_bytes: u64,
    /// Sum of the `Log-Size` headers of accepted uploads.
    pub log_size: u64,
}

/// State shared by the handle and the connections.
#[derive(Debug)]
pub(crate) struct Shared {
    pub expect: Expectations,
    inner: Mutex<Inner>,
    /// Number of stored records, watched by `wait_for_records`.
    pub record_count: watch::Sender<usize>,
    upload_prefix: u64,
    next_upload: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    records: Vec<Value>,
    stats: Stats,
    faults: FaultBook,
    /// The page's aggregates, updated with each stored upload.
    traffic: Traffic,
    /// The latest uploads and their answers.
    uploads: UploadLog,
    /// Bumped by every answered upload and every reset (never reset itself).
    version: u64,
}

/// What the page's endpoints read, all under one lock so the figures agree with each other.
pub(crate) struct PageData<'a> {
    pub stats: &'a Stats,
    pub traffic: &'a Traffic,
    pub uploads: &'a UploadLog,
    pub version: u64,
}

/// An accepted upload, ready to be stored and counted in one step.
#[derive(Debug, Default)]
struct Delivery {
    /// The records (none when bodies are discarded).
    records: Vec<Value>,
    /// Their tally for the page.
    arrival: traffic::Arrival,
    raw_bytes: u64,
    gzip_bytes: u64,
    log_size: u64,
    upload_id: String,
}

/// Returned by the service to make hyper drop the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection reset on purpose by a reset_connection fault")]
pub(crate) struct ResetConnection;

pub(crate) type Resp = Response<Full<Bytes>>;

impl Shared {
    pub fn new(expect: Expectations) -> Self {
        Self {
            expect,
            inner: Mutex::new(Inner::default()),
            record_count: watch::Sender::new(0),
            upload_prefix: rand::random(),
            next_upload: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the data stays consistent per update.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn records(&self) -> Vec<Value> {
        self.lock().records.clone()
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub fn set_faults(&self, faults: Vec<Fault>) -> Result<(), String> {
        self.lock().faults.set(faults)
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.records.clear();
        inner.stats = Stats::default();
        inner.traffic = Traffic::default();
        inner.uploads = UploadLog::default();
        inner.version += 1;
        self.record_count.send_replace(0);
    }

    /// Runs `read` on the page's data under the lock (keep it short: no I/O).
    pub fn with_page_data<R>(&self, read: impl FnOnce(PageData<'_>) -> R) -> R {
        let inner = self.lock();
        read(PageData {
            stats: &inner.stats,
            traffic: &inner.traffic,
            uploads: &inner.uploads,
            version: inner.version,
        })
    }

    /// Stores what an accepted upload delivered, counts the answer and lists the upload, all
    /// in one step so that every reader sees the figures agree.
    fn answered(&self, mut entry: UploadEntry, delivery: Option<Delivery>) {
        let mut inner = self.lock();
        if let Some(d) = delivery {
            inner.stats.records += d.records.len() as u64;
            inner.stats.raw_bytes += d.raw_bytes;
            inner.stats.gzip_bytes += d.gzip_bytes;
            inner.stats.log_size += d.log_size;
            inner.traffic.add(&d.arrival);
            inner.records.extend(d.records);
            self.record_count.send_replace(inner.records.len());
        }
        if entry.status.is_none() {
            inner.stats.connection_resets += 1;
        }
        entry.time_ms = chrono::Utc::now().timestamp_millis();
        if let Some(status) = entry.status {
            *inner.stats.by_status.entry(status).or_default() += 1;
        }
        inner.uploads.push(entry);
        inner.version += 1;
    }
}

/// Serves the mock on `listener` until `shutdown` resolves; open connections are then dropped.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { route(&shared, req).await }
                    });
                    // Errors here are client disconnects or deliberate resets: nothing to report.
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Result<Resp, ResetConnection> {
    let path = req.uri().path().to_owned();
    if let Some(resp) = page::route(shared, req.method(), &path, req.uri().query()) {
        return Ok(resp);
    }
    let response = match (req.method(), path.as_str()) {
        (&Method::POST, "/upload") => return upload(shared, req).await,
        (&Method::GET, "/_emulator/records") => {
            let mut ndjson = String::new();
            for record in shared.records() {
                ndjson.push_str(&record.to_string());
                ndjson.push('\n');
            }
            with_type(text(200, ndjson), "application/x-ndjson")
        }
        (&Method::GET, "/_emulator/stats") => json(200, &shared.stats()),
        (&Method::POST, "/_emulator/faults") => set_faults(shared, req).await,
        (&Method::DELETE, "/_emulator/faults") => {
            shared.clear_faults();
            text(200, "faults cleared\n")
        }
        (&Method::POST, "/_emulator/reset") => {
            shared.reset();
            text(200, "records and counters cleared\n")
        }
        _ => text(404, format!("no route for {} {path}\n", req.method())),
    };
    Ok(response)
}

async fn set_faults(shared: &Shared, req: Request<Incoming>) -> Resp {
    let Ok(body) = Limited::new(req.into_body(), 1 << 20).collect().await else {
        return text(400, "could not read the fault list (max 1 MiB)\n");
    };
    match serde_json::from_slice::<Vec<Fault>>(&body.to_bytes()) {
        Err(e) => text(
            400,
            format!("fault list is not a JSON array of rules: {e}\n"),
        ),
        Ok(faults) => match shared.set_faults(faults) {
            Ok(()) => text(200, "faults set\n"),
            Err(reason) => text(400, format!("{reason}\n")),
        },
    }
}

async fn upload(shared: &Shared, req: Request<Incoming>) -> Result<Resp, ResetConnection> {
    let (seq, decision) = {
        let mut inner = shared.lock();
        inner.stats.requests += 1;
        (inner.stats.requests, inner.faults.next_upload())
    };
    let mut entry = UploadEntry {
        seq,
        time_ms: 0,
        log_type: header_text(req.headers(), "x-logtype"),
        agents: Vec::new(),
        records: 0,
        raw_bytes: 0,
        gzip_bytes: header_text(req.headers(), "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        log_size: header_text(req.headers(), "log-size").and_then(|v| v.trim().parse().ok()),
        status: None,
        outcome: Outcome::Fault,
        upload_id: None,
        delay_ms: decision
            .delay
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        answer: String::new(),
    };
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    let mut delivery = None;
    let response = match decision.effect {
        Some(Effect::Reset) => {
            entry.answer = "connection reset (fault injected)".to_owned();
            shared.answered(entry, None);
            tracing::info!("mock Site24x7 dropped an upload's connection (reset_connection fault)");
            return Err(ResetConnection);
        }
        Some(Effect::LicenseExceeded) => {
            entry.answer = "400 log_license_exceeds=True (fault injected)".to_owned();
            with_flag(text(400, "log license exceeded\n"), "log_license_exceeds")
        }
        Some(Effect::Status {
            status,
            retry_after_s,
        }) => {
            entry.answer = match retry_after_s {
                Some(secs) => format!("{status} (fault injected, Retry-After {secs} s)"),
                None => format!("{status} (fault injected)"),
            };
            let mut resp = text(status, format!("fault injected: status {status}\n"));
            if let Some(secs) = retry_after_s {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        None => match accept(shared, req).await {
            Ok((resp, accepted)) => {
                entry.outcome = Outcome::Accepted;
                entry.records = accepted.records.len() as u64;
                entry.raw_bytes = accepted.raw_bytes;
                entry.gzip_bytes = accepted.gzip_bytes;
                entry.agents = accepted.arrival.per_agent.keys().cloned().collect();
                entry.upload_id = Some(accepted.upload_id.clone());
                entry.answer = format!("200, upload id {}", accepted.upload_id);
                delivery = Some(accepted);
                resp
            }
            Err(rejection) => {
                entry.outcome = Outcome::Rejected;
                entry.answer = match rejection.flag {
                    Some(flag) => {
                        format!("{} {flag}=True: {}", rejection.status, rejection.message)
                    }
                    None => format!("{} {}", rejection.status, rejection.message),
                };
                rejected(rejection)
            }
        },
    };
    let status = response.status().as_u16();
    entry.status = Some(status);
    let upload_id = entry.upload_id.clone();
    shared.answered(entry, delivery);
    tracing::info!(status, upload_id, "mock Site24x7 answered an upload");
    Ok(response)
}

fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

async fn accept(shared: &Shared, req: Request<Incoming>) -> Result<(Resp, Delivery), Rejection> {
    let log_size = validate::check_headers(req.headers(), &shared.expect)?;
    let cap = shared.expect.max_body_bytes;
    let too_large = || Rejection {
        status: 413,
        flag: None,
        message: format!("request body exceeds {cap} bytes: send smaller batches"),
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), cap)
        .collect()
        .await
        .map_err(|_| too_large())?
        .to_bytes();
    let mut delivery = if shared.expect.discard_bodies {
        validate::check_gzip_magic(&body)?;
        Delivery {
            log_size,
            ..Delivery::default()
        }
    } else {
        // Decoded, validated and tallied before taking the lock.
        let accepted = validate::check_body(&body, log_size, &shared.expect)?;
        Delivery {
            arrival: traffic::tally(&accepted.records),
            records: accepted.records,
            raw_bytes: accepted.raw_bytes,
            log_size: accepted.log_size,
            ..Delivery::default()
        }
    };
    delivery.gzip_bytes = body.len() as u64;
    let n = shared.next_upload.fetch_add(1, Ordering::Relaxed);
    delivery.upload_id = format!("{:016x}-{n}", shared.upload_prefix);
    let mut resp = json(200, &serde_json::json!({ "upload_id": delivery.upload_id }));
    if let Ok(value) = HeaderValue::from_str(&delivery.upload_id) {
        resp.headers_mut().insert("x-uploadid", value);
    }
    Ok((resp, delivery))
}

fn rejected(rejection: Rejection) -> Resp {
    let resp = text(rejection.status, format!("{}\n", rejection.message));
    match rejection.flag {
        Some(flag) => with_flag(resp, flag),
        None => resp,
    }
}

fn with_flag(mut resp: Resp, flag: &'static str) -> Resp {
    resp.headers_mut()
        .insert(flag, HeaderValue::from_static("True"));
    resp
}

fn with_type(mut resp: Resp, content_type: &'static str) -> Resp {
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub(crate) fn text(status: u16, body: impl Into<String>) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body.into())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    with_type(resp, "text/plain; charset=utf-8")
}

pub(crate) fn json(status: u16, value: &impl Serialize) -> Resp {
    let body = serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    with_type(text(status, body), "application/json")
}
