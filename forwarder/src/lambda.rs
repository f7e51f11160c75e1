//! Lambda mode: the `lambda_runtime` loop around [`Forwarder::handle_event`].
//!
//! Environment: `logTypeConfig` (required, base64 as Site24x7 issues it), the variables of
//! [`crate::settings`] (`FLOWLOG_*`), the AWS credentials and region the SDK reads, and the
//! ones Lambda sets (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`,
//! `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_LAMBDA_FUNCTION_VERSION`, checked up front because
//! `lambda_runtime` panics without them). Logs: JSON unless `AWS_LAMBDA_LOG_FORMAT=Text`, at
//! `AWS_LAMBDA_LOG_LEVEL` (default `INFO`).
//!
//! Errors reach Lambda with `errorType` `Retryable` or `NonRetryable`; SQS payloads answer
//! `{"batchItemFailures":[…]}` instead of failing. A panic never crosses the boundary: it
//! becomes a `NonRetryable` error ([`guard`]) and the process goes on to the next invocation.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::config::{ConfigError, LogTypeConfig};
use crate::limits::{MAX_LOGGED_BYTES, excerpt, excerpt_of};
use crate::pipeline::{Forwarder, InvocationError, SetupError};
use crate::report::InvocationReport;
use crate::settings::{Settings, SettingsError};
use crate::upload::redacted_url;

/// Variables the Lambda runtime client needs, with what each is.
pub const REQUIRED_LAMBDA_ENV: [(&str, &str); 4] = [
    ("AWS_LAMBDA_RUNTIME_API", "host:port of the Runtime API"),
    ("AWS_LAMBDA_FUNCTION_NAME", "the function's name"),
    (
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "the memory size in MB (a whole number)",
    ),
    ("AWS_LAMBDA_FUNCTION_VERSION", "the function version"),
];

/// Lambda mode could not start.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// A variable Lambda always sets is missing: not running inside Lambda (or the emulator).
    #[error(
        "environment variable {name} ({what}) is missing or invalid: `lambda` mode runs inside \
         AWS Lambda or against a Runtime API emulator that sets it; use `forward` or `backfill` \
         on the command line"
    )]
    NotInLambda {
        /// The variable.
        name: &'static str,
        /// What it holds.
        what: &'static str,
    },
    /// `logTypeConfig` is missing.
    #[error(
        "environment variable logTypeConfig is not set; fix: set it to the base64 value of the \
         Site24x7 log profile (Log Profile > AWS Lambda > logTypeConfig)"
    )]
    MissingConfig,
    /// `logTypeConfig` does not decode.
    #[error("environment variable {0}")]
    Config(#[from] ConfigError),
    /// A `FLOWLOG_*` variable does not parse.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The clients could not be built.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The runtime loop failed.
    #[error("Lambda runtime: {0}")]
    Runtime(String),
}

/// Checks the variables `lambda_runtime` would otherwise panic on.
///
/// # Errors
/// [`LambdaError::NotInLambda`] naming the first one missing.
pub fn check_lambda_env(get: impl Fn(&str) -> Option<String>) -> Result<(), LambdaError> {
    for (name, what) in REQUIRED_LAMBDA_ENV {
        let value = get(name).filter(|v| !v.is_empty());
        let valid = match (name, value) {
            (_, None) => false,
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Some(v)) => v.parse::<i32>().is_ok(),
            _ => true,
        };
        if !valid {
            return Err(LambdaError::NotInLambda { name, what });
        }
    }
    Ok(())
}

/// Reads `logTypeConfig` and the settings from the environment (through `get`).
///
/// # Errors
/// [`LambdaError::MissingConfig`], [`LambdaError::Config`] or [`LambdaError::Settings`].
pub fn config_from_env(
    get: impl Fn(&str) -> Option<String>,
) -> Result<(LogTypeConfig, Settings), LambdaError> {
    let value = get("logTypeConfig")
        .filter(|v| !v.trim().is_empty())
        .ok_or(LambdaError::MissingConfig)?;
    let config = LogTypeConfig::from_env_value(&value)?;
    let settings = Settings::from_lambda_env(&get)?;
    Ok((config, settings))
}

/// Installs the global log subscriber Lambda expects: JSON (or text with
/// `AWS_LAMBDA_LOG_FORMAT=Text`) on stdout at `AWS_LAMBDA_LOG_LEVEL` (default `INFO`), no ANSI
/// colours, no timestamps in text (CloudWatch adds its own).
pub fn init_logging(get: impl Fn(&str) -> Option<String>) {
    let level = get("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_else(|| "INFO".to_owned())
        .to_ascii_lowercase();
    let level = match level.as_str() {
        "fatal" => "error".to_owned(),
        other => other.to_owned(),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let text = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    let _ = if text {
        builder.without_time().try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    };
}

/// What a failed invocation tells Lambda: `errorType` `Retryable` or `NonRetryable`.
#[derive(Debug)]
pub struct HandlerError {
    /// Whether a retry may help.
    pub retryable: bool,
    /// The message (never a secret).
    pub message: String,
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: if error.retryable {
                "Retryable"
            } else {
                "NonRetryable"
            }
            .to_owned(),
            error_message: error.message,
        }
    }
}

/// Longest message sent to Lambda (and so to CloudWatch and a DLQ's attributes).
const MAX_MESSAGE_BYTES: usize = 4 * MAX_LOGGED_BYTES;

impl From<InvocationError> for HandlerError {
    /// Retryable only when some failure can pass on a retry: undecodable records, invalid
    /// object names and configuration errors never do.
    fn from(error: InvocationError) -> Self {
        let retryable =
            error.is_retryable() && error.report().is_none_or(InvocationReport::is_retryable);
        Self {
            retryable,
            message: excerpt_of(&error.to_string(), MAX_MESSAGE_BYTES).to_string(),
        }
    }
}

/// Runs one invocation, turning a panic into a `NonRetryable` [`HandlerError`] (the same event
/// would panic again) so the Runtime API gets a clear error and the loop serves the next one.
/// Without this, `lambda_runtime` reports a Rust type name as the `errorType`.
///
/// # Errors
/// The invocation's own error, or the panic's.
pub async fn guard<F>(invocation: F) -> Result<Value, HandlerError>
where
    F: Future<Output = Result<Value, HandlerError>>,
{
    match AssertUnwindSafe(invocation).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            let what = excerpt(&what);
            tracing::error!(panic = %what, "the invocation panicked: reported as NonRetryable");
            Err(HandlerError {
                retryable: false,
                message: format!(
                    "internal error: the forwarder panicked ({what}); the event is not retried \
                     (it would panic again): please report this bug with the event"
                ),
            })
        }
    }
}

/// One invocation: the response Lambda gets (the SQS batch response for SQS payloads, else a
/// small summary), or the error.
///
/// # Errors
/// [`HandlerError`] when the invocation failed.
pub async fn handle(forwarder: &Forwarder, payload: Value) -> Result<Value, HandlerError> {
    let report = forwarder.handle_event(payload).await?;
    if let Some(sqs) = &report.sqs {
        return serde_json::to_value(sqs).map_err(|e| HandlerError {
            retryable: true,
            message: e.to_string(),
        });
    }
    Ok(json!({
        "objects": report.objects.len(),
        "records_sent": report.records_sent(),
        "skipped_events": report.skipped_events,
    }))
}

/// Runs the Lambda runtime loop until the Runtime API goes away.
///
/// # Errors
/// [`LambdaError::Runtime`] when the loop ends with an error.
pub async fn run(forwarder: Forwarder) -> Result<(), LambdaError> {
    let forwarder = &forwarder;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        guard(handle(forwarder, event.payload)).await
    }))
    .await
    .map_err(|e| LambdaError::Runtime(e.to_string()))
}

/// Lambda mode from the process environment: check, configure, build once, loop.
///
/// # Errors
/// [`LambdaError`] with a message that names the variable to fix.
pub async fn run_from_env() -> Result<(), LambdaError> {
    let get = |k: &str| std::env::var(k).ok();
    init_logging(get);
    check_lambda_env(get)?;
    let (config, settings) = config_from_env(get)?;
    let forwarder = Forwarder::new(config, settings).await?;
    tracing::info!(
        upload_url = %redacted_url(forwarder.upload_url()),
        "flowlog-forwarder Lambda runtime started"
    );
    run(forwarder).await
}

#[cfg(test)]
mod tests {
    use super::{LambdaError, check_lambda_env, config_from_env, guard};

    #[tokio::test]
    async fn a_panic_becomes_a_non_retryable_error_and_the_next_invocation_runs() {
        let boom = async { panic!("index out of bounds: the len is 0 but the index is 3") };
        let err = guard(boom).await.expect_err("a panic is an error");
        assert!(!err.retryable);
        assert!(
            err.message.contains("panicked (index out of bounds"),
            "{}",
            err.message
        );

        let owned = async { panic!("{}", "x".repeat(1 << 20)) };
        let err = guard(owned).await.expect_err("a panic is an error");
        assert!(err.message.len() < 2048, "{} bytes", err.message.len());

        let next = guard(async { Ok(serde_json::json!({"objects": 1})) }).await;
        assert_eq!(next.ok(), Some(serde_json::json!({"objects": 1})));
    }

    #[test]
    fn a_missing_function_variable_is_named_instead_of_panicking() {
        let err =
            check_lambda_env(|k| (k != "AWS_LAMBDA_FUNCTION_VERSION").then(|| "128".to_owned()))
                .expect_err("missing");
        assert!(
            err.to_string().contains("AWS_LAMBDA_FUNCTION_VERSION"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_log_type_config_is_a_clear_error() {
        let err = config_from_env(|_| None).expect_err("missing");
        assert!(matches!(err, LambdaError::MissingConfig));
        assert!(err.to_string().contains("logTypeConfig"));
    }
}
