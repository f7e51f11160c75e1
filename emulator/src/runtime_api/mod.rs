//! A Lambda Runtime API (2018-06-01) with asynchronous-invoke semantics, so any Lambda runtime
//! client — the `lambda_runtime` crate included — runs against it unchanged.
//!
//! Layout:
//! - `state` — queued events, attempts, deadlines, retries with backoff, dead letters;
//! - `server` — `/2018-06-01/runtime/…` routes plus `/_emulator/{invoke,invocations,dead-letters}`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowlog_emulator::runtime_api::RuntimeApiError> {
//! use std::time::Duration;
//! use flowlog_emulator::runtime_api::LambdaRuntimeApi;
//! let lambda = LambdaRuntimeApi::builder()
//!     .function_name("forwarder")
//!     .timeout(Duration::from_secs(30))
//!     .retry_delays([Duration::from_millis(10), Duration::from_millis(20)])
//!     .start()
//!     .await?;
//! // run the function with AWS_LAMBDA_RUNTIME_API = lambda.addr()
//! lambda.invoke(serde_json::json!({"Records": []}));
//! lambda.wait_idle(Duration::from_secs(10)).await?;
//! # Ok(()) }
//! ```

mod server;
mod state;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use state::{Book, FunctionConfig};

/// Function name used when none is configured.
pub const DEFAULT_FUNCTION_NAME: &str = "flowlog-forwarder";
/// Function timeout used when none is configured (Lambda's own default is 3 s; a forwarder
/// reading large objects is usually given minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Delays before the first and second retry, like Lambda's asynchronous invoke (~1 and ~2 min).
pub const DEFAULT_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

/// Errors of the Runtime API's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    /// The listening socket could not be opened.
    #[error(
        "Lambda Runtime API could not listen on {addr}: {source} (pick a free port or use port 0)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A setting is out of range.
    #[error("invalid Lambda Runtime API setting: {0}")]
    InvalidConfig(String),
    /// `wait_idle` ran out of time.
    #[error("{pending} invocation(s) still pending after {timeout:?}")]
    Timeout {
        /// Invocations neither succeeded nor dead-lettered.
        pending: usize,
        /// The time allowed.
        timeout: Duration,
    },
}

/// One event given to the function, with every attempt made for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// The id [`LambdaRuntimeApi::invoke`] returned.
    pub id: String,
    /// The event, as queued.
    pub event: Value,
    /// Attempts so far, oldest first.
    pub attempts: Vec<Attempt>,
    /// Where the invocation stands.
    pub state: InvocationState,
}

/// Where an invocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvocationState {
    /// Waiting for a runtime to ask for it.
    Queued,
    /// Handed to a runtime; no answer yet.
    Running,
    /// An attempt failed; the next one is scheduled.
    WaitingRetry,
    /// The function answered successfully.
    Succeeded,
    /// Every allowed attempt failed.
    DeadLettered,
}

/// One delivery of an event to the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first delivery, 2 and 3 for retries.
    pub number: u32,
    /// The `Lambda-Runtime-Aws-Request-Id` of this attempt (unique per attempt).
    pub request_id: String,
    /// How it ended.
    pub result: AttemptResult,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptResult {
    /// Still running.
    Running,
    /// The function posted a response (JSON, or the text as a JSON string).
    Succeeded {
        /// The response body.
        response: Value,
    },
    /// The function posted an error.
    Failed {
        /// `errorType` of the body, else the `Lambda-Runtime-Function-Error-Type` header.
        error_type: String,
        /// The error body as posted.
        error: Value,
    },
    /// The deadline passed without an answer.
    TimedOut,
}

/// An event whose every attempt failed: what Lambda would send to a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The invocation id.
    pub id: String,
    /// The event.
    pub event: Value,
    /// Attempts made (1 + retries).
    pub attempts: u32,
    /// How the last attempt ended.
    pub last_result: AttemptResult,
}

/// Configures a [`LambdaRuntimeApi`] before it starts.
#[derive(Debug, Clone)]
pub struct LambdaRuntimeApiBuilder {
    function_name: String,
    function_arn: Option<String>,
    timeout: Duration,
    retry_delays: Vec<Duration>,
    max_retry_attempts: u8,
    addr: SocketAddr,
    header_read_timeout: Duration,
}

impl Default for LambdaRuntimeApiBuilder {
    fn default() -> Self {
        Self {
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            function_arn: None,
            timeout: DEFAULT_TIMEOUT,
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            max_retry_attempts: 2,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            header_read_timeout: crate::s3::settings::DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

impl LambdaRuntimeApiBuilder {
    /// Function name; the ARN becomes `arn:aws:lambda:us-east-1:123456789012:function:{name}`.
    #[must_use]
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = name.into();
        self
    }

    /// Full ARN sent as `Lambda-Runtime-Invoked-Function-Arn` (overrides the derived one).
    #[must_use]
    pub fn function_arn(mut self, arn: impl Into<String>) -> Self {
        self.function_arn = Some(arn.into());
        self
    }

    /// Time an attempt may take before it counts as failed (`Lambda-Runtime-Deadline-Ms`).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Delays before each retry; the last one repeats if fewer than the retries are given.
    #[must_use]
    pub fn retry_delays(mut self, delays: impl IntoIterator<Item = Duration>) -> Self {
        self.retry_delays = delays.into_iter().collect();
        self
    }

    /// Retries after a failed first attempt: 0, 1 or 2 (Lambda's `MaximumRetryAttempts`).
    #[must_use]
    pub fn max_retry_attempts(mut self, retries: u8) -> Self {
        self.max_retry_attempts = retries;
        self
    }

    /// Time a client gets to send a request's headers before its connection is closed
    /// (default 10 s), so a client that stops mid-request holds no connection forever.
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Where [`LambdaRuntimeApiBuilder::start`] listens (default `127.0.0.1:0`).
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    fn book(&self, stop: CancellationToken) -> Result<Arc<Book>, RuntimeApiError> {
        if self.max_retry_attempts > 2 {
            return Err(RuntimeApiError::InvalidConfig(format!(
                "max_retry_attempts is {}, Lambda allows 0 to 2",
                self.max_retry_attempts
            )));
        }
        let arn = self.function_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                self.function_name
            )
        });
        let config = FunctionConfig {
            arn,
            timeout: self.timeout,
            retry_delays: self.retry_delays.clone(),
            max_retry_attempts: self.max_retry_attempts,
        };
        Ok(Arc::new(Book::new(config, stop)))
    }

    /// Binds the configured address and serves in the background.
    ///
    /// # Errors
    /// [`RuntimeApiError::InvalidConfig`] for more than 2 retries; [`RuntimeApiError::Bind`].
    pub async fn start(self) -> Result<LambdaRuntimeApi, RuntimeApiError> {
        let addr = self.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| RuntimeApiError::Bind { addr, source })?;
        self.start_on(listener)
    }

    /// Serves on a listener the caller bound; the server stops when the handle drops.
    ///
    /// # Errors
    /// As [`LambdaRuntimeApiBuilder::start`].
    pub fn start_on(self, listener: TcpListener) -> Result<LambdaRuntimeApi, RuntimeApiError> {
        let addr = listener
            .local_addr()
            .map_err(|source| RuntimeApiError::Bind {
                addr: self.addr,
                source,
            })?;
        let stop = CancellationToken::new();
        let book = self.book(stop.clone())?;
        tokio::spawn(server::serve(
            book.clone(),
            listener,
            self.header_read_timeout,
            stop.clone().cancelled_owned(),
        ));
        Ok(LambdaRuntimeApi { book, addr })
    }

    /// Serves on `listener` until `shutdown` resolves (for a process such as `serve`).
    ///
    /// # Errors
    /// [`RuntimeApiError::InvalidConfig`] for more than 2 retries.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RuntimeApiError> {
        let stop = CancellationToken::new();
        let book = self.book(stop.clone())?;
        server::serve(book, listener, self.header_read_timeout, shutdown).await;
        stop.cancel();
        Ok(())
    }
}

/// Queues invocations on a [`LambdaRuntimeApi`] from anywhere; see [`LambdaRuntimeApi::invoker`].
#[derive(Debug, Clone)]
pub struct Invoker {
    book: std::sync::Weak<Book>,
}

impl Invoker {
    /// Queues an event; `None` when the runtime API has been dropped.
    #[must_use]
    pub fn invoke(&self, event: Value) -> Option<String> {
        self.book.upgrade().map(|book| book.invoke(event))
    }
}

/// A running Lambda Runtime API; dropping it stops the server and its retry timers.
#[derive(Debug)]
pub struct LambdaRuntimeApi {
    book: Arc<Book>,
    addr: SocketAddr,
}

impl Drop for LambdaRuntimeApi {
    fn drop(&mut self) {
        self.book.stop.cancel();
    }
}

impl LambdaRuntimeApi {
    /// A builder, to set the function name, timeout, retry delays and retries.
    #[must_use]
    pub fn builder() -> LambdaRuntimeApiBuilder {
        LambdaRuntimeApiBuilder::default()
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API` for the function process.
    #[must_use]
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Base URI, e.g. `http://127.0.0.1:41003`, for the `/_emulator/…` routes.
    #[must_use]
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The ARN sent as `Lambda-Runtime-Invoked-Function-Arn`.
    #[must_use]
    pub fn function_arn(&self) -> &str {
        &self.book.config.arn
    }

    /// Queues an event for asynchronous invocation; returns the invocation id.
    pub fn invoke(&self, event: Value) -> String {
        self.book.invoke(event)
    }

    /// A cloneable way to queue invocations from other tasks (e.g. S3 notification delivery).
    /// It stops working once this handle is dropped: the server is gone by then.
    #[must_use]
    pub fn invoker(&self) -> Invoker {
        Invoker {
            book: Arc::downgrade(&self.book),
        }
    }

    /// Every invocation with its attempts and state, in invocation order.
    #[must_use]
    pub fn outcomes(&self) -> Vec<Invocation> {
        self.book.invocations()
    }

    /// Events whose every allowed attempt failed.
    #[must_use]
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.book.dead_letters()
    }

    /// Errors posted to `/runtime/init/error` (`errorType` and the body as sent).
    #[must_use]
    pub fn init_errors(&self) -> Vec<Value> {
        self.book.init_errors()
    }

    /// Waits until every invocation succeeded or was dead-lettered.
    ///
    /// # Errors
    /// [`RuntimeApiError::Timeout`] with the number still pending.
    pub async fn wait_idle(&self, timeout: Duration) -> Result<(), RuntimeApiError> {
        let mut changes = self.book.changed.subscribe();
        let book = self.book.clone();
        let idle = tokio::time::timeout(timeout, changes.wait_for(|_| book.is_idle())).await;
        if idle.is_ok_and(|r| r.is_ok()) {
            return Ok(());
        }
        let pending = self
            .outcomes()
            .iter()
            .filter(|i| {
                !matches!(
                    i.state,
                    InvocationState::Succeeded | InvocationState::DeadLettered
                )
            })
            .count();
        Err(RuntimeApiError::Timeout { pending, timeout })
    }
}
