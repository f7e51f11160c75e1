//! A mock Site24x7 AppLogs upload endpoint that validates like the real one and fails on demand.
//!
//! Layout:
//! - [`fault`] — [`Fault`] rules (the same vocabulary in Rust and in `POST /_emulator/faults`);
//! - `validate` — headers and body checked the way Site24x7 answers;
//! - `server` — routes (`/upload`, `/_emulator/*`) and the accept loop;
//! - `traffic`, `timeline`, `topk` — what the records say (totals, records over time, top
//!   talkers, rejected ports, protocols), kept up to date per upload in bounded memory;
//! - `uploads` — the latest uploads and their answers;
//! - `page` — the live page at `GET /` (built into the binary) and the JSON it reads.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowlog_emulator::ingest::IngestError> {
//! use flowlog_emulator::ingest::{Fault, MockSite24x7};
//! let mock = MockSite24x7::builder().device_key("k").log_type("vpc").start().await?;
//! mock.faults(vec![Fault::status(503).times(3)])?;
//! // … point the forwarder at mock.upload_url() …
//! let records = mock.wait_for_records(10, std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```

pub mod fault;
mod page;
mod server;
mod timeline;
mod topk;
mod traffic;
mod uploads;
mod validate;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use fault::Fault;
pub use server::Stats;

/// Device key accepted by [`MockSite24x7::start`].
pub const DEFAULT_DEVICE_KEY: &str = "emulator-device-key";
/// Log type accepted by [`MockSite24x7::start`].
pub const DEFAULT_LOG_TYPE: &str = "vpc_flow_logs";
/// Default largest body (compressed, and uncompressed JSON): the 5,000,000-byte request limit
/// of Site24x7's own plugins.
pub const DEFAULT_MAX_BODY_BYTES: usize = 5_000_000;

/// Errors of the mock's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The listening socket could not be opened.
    #[error("mock Site24x7 could not listen on {addr}: {source} (pick a free port or use port 0)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A fault rule is contradictory or out of range.
    #[error("invalid fault rule: {0}")]
    InvalidFault(String),
    /// `wait_for_records` ran out of time.
    #[error("mock Site24x7 received {received} of {expected} records within {timeout:?}")]
    Timeout {
        /// Records wanted.
        expected: usize,
        /// Records present when time ran out.
        received: usize,
        /// The time allowed.
        timeout: Duration,
    },
}

/// Configures a [`MockSite24x7`] before it starts.
#[derive(Debug, Clone)]
pub struct MockSite24x7Builder {
    device_key: String,
    log_type: String,
    max_body_bytes: usize,
    addr: SocketAddr,
    discard_bodies: bool,
}

impl Default for MockSite24x7Builder {
    fn default() -> Self {
        Self {
            device_key: DEFAULT_DEVICE_KEY.to_owned(),
            log_type: DEFAULT_LOG_TYPE.to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            discard_bodies: false,
        }
    }
}

impl MockSite24x7Builder {
    /// The only `X-DeviceKey` accepted (others get 400 + `invalid_account=True`).
    #[must_use]
    pub fn device_key(mut self, key: impl Into<String>) -> Self {
        self.device_key = key.into();
        self
    }

    /// The only `X-LogType` accepted (others get 400 + `invalid_logtype=True`).
    #[must_use]
    pub fn log_type(mut self, log_type: impl Into<String>) -> Self {
        self.log_type = log_type.into();
        self
    }

    /// Largest accepted body, compressed and uncompressed; larger ones get 413.
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Where [`MockSite24x7Builder::start`] listens (default `127.0.0.1:0`, any free port).
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Accepts uploads after checking headers and the gzip magic only, without decompressing
    /// or keeping records: a sink cheap enough for benchmarks, where the mock must not be the
    /// bottleneck. [`Stats`] still counts requests, gzip bytes and `Log-Size`; `records` and
    /// `raw_bytes` stay 0.
    #[must_use]
    pub fn discard_bodies(mut self) -> Self {
        self.discard_bodies = true;
        self
    }

    fn shared(&self) -> Arc<server::Shared> {
        Arc::new(server::Shared::new(validate::Expectations {
            device_key: self.device_key.clone(),
            log_type: self.log_type.clone(),
            max_body_bytes: self.max_body_bytes,
            discard_bodies: self.discard_bodies,
        }))
    }

    /// Binds the configured address and starts serving in the background.
    ///
    /// # Errors
    /// [`IngestError::Bind`] when the address cannot be bound.
    pub async fn start(self) -> Result<MockSite24x7, IngestError> {
        let addr = self.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| IngestError::Bind { addr, source })?;
        self.start_on(listener)
    }

    /// Starts serving on a listener the caller bound; the server stops when the handle drops.
    ///
    /// # Errors
    /// [`IngestError::Bind`] when the listener has no local address.
    pub fn start_on(self, listener: TcpListener) -> Result<MockSite24x7, IngestError> {
        let addr = listener.local_addr().map_err(|source| IngestError::Bind {
            addr: self.addr,
            source,
        })?;
        let shared = self.shared();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server::serve(shared.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(MockSite24x7 {
            shared,
            addr,
            _stop: stop,
        })
    }

    /// Serves on `listener` until `shutdown` resolves (for a process such as `serve`).
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        server::serve(self.shared(), listener, shutdown).await;
    }
}

/// A running mock Site24x7; dropping it stops the server.
#[derive(Debug)]
pub struct MockSite24x7 {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl MockSite24x7 {
    /// A builder, to set the device key, log type, body cap or address.
    #[must_use]
    pub fn builder() -> MockSite24x7Builder {
        MockSite24x7Builder::default()
    }

    /// Starts with [`DEFAULT_DEVICE_KEY`], [`DEFAULT_LOG_TYPE`], [`DEFAULT_MAX_BODY_BYTES`]
    /// on `127.0.0.1`, any free port.
    ///
    /// # Errors
    /// [`IngestError::Bind`] when no port can be bound.
    pub async fn start() -> Result<Self, IngestError> {
        Self::builder().start().await
    }

    /// The listening address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URI, e.g. `http://127.0.0.1:41002`.
    #[must_use]
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live page of what arrived (`{uri}/`): open it in a browser.
    #[must_use]
    pub fn page_url(&self) -> String {
        format!("{}/", self.uri())
    }

    /// The URL a forwarder posts to (`{uri}/upload`).
    #[must_use]
    pub fn upload_url(&self) -> String {
        format!("{}/upload", self.uri())
    }

    /// The accepted device key.
    #[must_use]
    pub fn device_key(&self) -> &str {
        &self.shared.expect.device_key
    }

    /// The accepted log type.
    #[must_use]
    pub fn log_type(&self) -> &str {
        &self.shared.expect.log_type
    }

    /// Every accepted record, in the order received.
    #[must_use]
    pub fn records(&self) -> Vec<Value> {
        self.shared.records()
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Replaces the fault rules applied to the next uploads.
    ///
    /// For each upload the rules are tried in order: the first with uses left (`times`) whose
    /// probability draw fires decides; a rule that does not fire passes to the next, and with
    /// no rule firing the upload is processed normally. Faulted uploads store nothing.
    ///
    /// # Errors
    /// [`IngestError::InvalidFault`] when a rule is contradictory; no rule is installed then.
    pub fn faults(&self, faults: Vec<Fault>) -> Result<(), IngestError> {
        self.shared
            .set_faults(faults)
            .map_err(IngestError::InvalidFault)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Clears records and counters (fault rules stay).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Waits until at least `n` records are stored, then returns all records.
    ///
    /// # Errors
    /// [`IngestError::Timeout`] when fewer than `n` arrived within `timeout`.
    pub async fn wait_for_records(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Value>, IngestError> {
        let mut count = self.shared.record_count.subscribe();
        let reached = tokio::time::timeout(timeout, count.wait_for(|&c| c >= n))
            .await
            .is_ok_and(|r| r.is_ok());
        if reached {
            return Ok(self.records());
        }
        Err(IngestError::Timeout {
            expected: n,
            received: *count.borrow(),
            timeout,
        })
    }
}
