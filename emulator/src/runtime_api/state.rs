//! The invocation book: queued events, attempts in flight, deadlines, retries, dead letters.
//!
//! Asynchronous-invoke semantics as Lambda applies them to S3 notifications: an attempt that
//! reports an error or outlives its deadline is retried after a delay, up to the configured
//! number of retries, and then dead-lettered.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{Attempt, AttemptResult, DeadLetter, Invocation, InvocationState};

/// The function's settings, fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct FunctionConfig {
    pub arn: String,
    pub timeout: Duration,
    pub retry_delays: Vec<Duration>,
    pub max_retry_attempts: u8,
}

/// What `/invocation/next` hands to the runtime.
#[derive(Debug, Clone)]
pub(crate) struct Dispatch {
    pub request_id: String,
    pub deadline_ms: u64,
    pub trace_id: String,
    pub event: Value,
}

/// Why a completion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No attempt ever had this request id.
    Unknown,
    /// The attempt already ended (answered, errored or timed out).
    Stale,
}

/// State shared by the handle, the HTTP routes and the timers.
#[derive(Debug)]
pub(crate) struct Book {
    pub config: FunctionConfig,
    inner: Mutex<Inner>,
    /// Wakes long-polling `/next` requests when an event is queued.
    queued: Notify,
    /// Bumped on every state change, for `wait_idle`.
    pub changed: watch::Sender<u64>,
    /// Cancels timers and the server when the handle drops.
    pub stop: CancellationToken,
}

#[derive(Debug, Default)]
struct Inner {
    invocations: Vec<Invocation>,
    ready: VecDeque<usize>,
    /// request id → (invocation index, attempt index).
    by_request: HashMap<String, (usize, usize)>,
    dead_letters: Vec<DeadLetter>,
    init_errors: Vec<Value>,
    next_id: u64,
    id_prefix: u64,
}

impl Book {
    pub fn new(config: FunctionConfig, stop: CancellationToken) -> Self {
        let inner = Inner {
            id_prefix: rand::random(),
            ..Inner::default()
        };
        Self {
            config,
            inner: Mutex::new(inner),
            queued: Notify::new(),
            changed: watch::Sender::new(0),
            stop,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Queues an event; returns the invocation id.
    pub fn invoke(&self, event: Value) -> String {
        let id = {
            let mut inner = self.lock();
            let id = inner.fresh_id();
            let index = inner.invocations.len();
            inner.invocations.push(Invocation {
                id: id.clone(),
                event,
                attempts: Vec::new(),
                state: InvocationState::Queued,
            });
            inner.ready.push_back(index);
            id
        };
        self.queued.notify_waiters();
        self.bump();
        id
    }

    /// Waits for a queued event and starts an attempt for it (the long poll of `/next`).
    pub async fn next(self: &std::sync::Arc<Self>) -> Dispatch {
        loop {
            let notified = self.queued.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(dispatch) = self.start_attempt() {
                return dispatch;
            }
            notified.await;
        }
    }

    fn start_attempt(self: &std::sync::Arc<Self>) -> Option<Dispatch> {
        let dispatch = {
            let mut inner = self.lock();
            let index = inner.ready.pop_front()?;
            let request_id = inner.fresh_id();
            let invocation = &mut inner.invocations[index];
            let attempt_index = invocation.attempts.len();
            invocation.attempts.push(Attempt {
                number: u32::try_from(attempt_index + 1).unwrap_or(u32::MAX),
                request_id: request_id.clone(),
                result: AttemptResult::Running,
            });
            invocation.state = InvocationState::Running;
            let event = invocation.event.clone();
            inner
                .by_request
                .insert(request_id.clone(), (index, attempt_index));
            let deadline = SystemTime::now() + self.config.timeout;
            Dispatch {
                deadline_ms: millis_since_epoch(deadline),
                trace_id: trace_id(&request_id),
                request_id,
                event,
            }
        };
        let book = self.clone();
        let request_id = dispatch.request_id.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = book.stop.cancelled() => {}
                () = tokio::time::sleep(book.config.timeout) => {
                    // Ok or Stale: either it timed out now, or it had already finished.
                    let _ = book.finish(&request_id, AttemptResult::TimedOut);
                }
            }
        });
        self.bump();
        Some(dispatch)
    }

    /// Ends the running attempt with `result`; on failure schedules a retry or dead-letters.
    pub fn finish(
        self: &std::sync::Arc<Self>,
        request_id: &str,
        result: AttemptResult,
    ) -> Result<(), Refusal> {
        let retry = {
            let mut inner = self.lock();
            let &(index, attempt) = inner.by_request.get(request_id).ok_or(Refusal::Unknown)?;
            let invocation = &mut inner.invocations[index];
            if invocation.attempts[attempt].result != AttemptResult::Running {
                return Err(Refusal::Stale);
            }
            let succeeded = matches!(result, AttemptResult::Succeeded { .. });
            tracing::info!(
                invocation = %invocation.id,
                attempt = attempt + 1,
                succeeded,
                timed_out = result == AttemptResult::TimedOut,
                "Lambda attempt ended"
            );
            invocation.attempts[attempt].result = result.clone();
            let made = invocation.attempts.len();
            if succeeded {
                invocation.state = InvocationState::Succeeded;
                None
            } else if made <= usize::from(self.config.max_retry_attempts) {
                invocation.state = InvocationState::WaitingRetry;
                Some((index, self.delay_before_retry(made)))
            } else {
                invocation.state = InvocationState::DeadLettered;
                let letter = DeadLetter {
                    id: invocation.id.clone(),
                    event: invocation.event.clone(),
                    attempts: u32::try_from(made).unwrap_or(u32::MAX),
                    last_result: result,
                };
                inner.dead_letters.push(letter);
                None
            }
        };
        if let Some((index, delay)) = retry {
            let book = self.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = book.stop.cancelled() => {}
                    () = tokio::time::sleep(delay) => book.requeue(index),
                }
            });
        }
        self.bump();
        Ok(())
    }

    fn delay_before_retry(&self, attempts_made: usize) -> Duration {
        let delays = &self.config.retry_delays;
        delays
            .get(attempts_made - 1)
            .or_else(|| delays.last())
            .copied()
            .unwrap_or_default()
    }

    fn requeue(&self, index: usize) {
        {
            let mut inner = self.lock();
            inner.invocations[index].state = InvocationState::Queued;
            inner.ready.push_back(index);
        }
        self.queued.notify_waiters();
        self.bump();
    }

    pub fn init_error(&self, error: Value) {
        self.lock().init_errors.push(error);
        self.bump();
    }

    pub fn invocations(&self) -> Vec<Invocation> {
        self.lock().invocations.clone()
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.lock().dead_letters.clone()
    }

    pub fn init_errors(&self) -> Vec<Value> {
        self.lock().init_errors.clone()
    }

    /// True when every invocation succeeded or was dead-lettered.
    pub fn is_idle(&self) -> bool {
        self.lock().invocations.iter().all(|i| {
            matches!(
                i.state,
                InvocationState::Succeeded | InvocationState::DeadLettered
            )
        })
    }
}

impl Inner {
    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        // UUID-shaped, like Lambda's request ids; unique within this emulator.
        let (p, n) = (self.id_prefix, self.next_id);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            p >> 32,
            (p >> 16) & 0xffff,
            p & 0xfff,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

fn millis_since_epoch(t: SystemTime) -> u64 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// An X-Ray trace header in Lambda's shape, derived from the request id.
fn trace_id(request_id: &str) -> String {
    let secs = millis_since_epoch(SystemTime::now()) / 1000;
    let hex: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let root = hex.get(hex.len().saturating_sub(24)..).unwrap_or_default();
    let parent = hex.get(..16).unwrap_or_default();
    format!("Root=1-{secs:08x}-{root};Parent={parent};Sampled=0")
}
