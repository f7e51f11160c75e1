//! The `lambda_runtime` crate, unchanged, runs a handler against the emulated Runtime API.
//!
//! `lambda_runtime` reads its configuration only from the environment, and tests must not call
//! `env::set_var`. So each test starts this very test binary again as a child process, with the
//! Lambda variables set on that child only, running the ignored `lambda_function_process`
//! "test" below: a real Lambda function process, in the shape of a `bootstrap`.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;
use flowlog_emulator::runtime_api::{AttemptResult, InvocationState, LambdaRuntimeApi};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Tells the child which handler to run; absent in a normal test run.
const MODE: &str = "FLOWLOG_TEST_LAMBDA_HANDLER";
const WAIT: Duration = Duration::from_secs(60);

/// What the child's handler does with each event.
async fn handler(
    mode: &str,
    calls: &AtomicUsize,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
    let ctx = &event.context;
    match mode {
        "fail" => Err(format!("boom on request {} (call {call})", ctx.request_id).into()),
        "fail-once" if call == 1 => Err("first call fails".into()),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(json!("too late"))
        }
        _ => Ok(json!({
            "echo": event.payload,
            "request_id": ctx.request_id,
            "arn": ctx.invoked_function_arn,
            "deadline_ms": ctx.deadline,
            "call": call,
        })),
    }
}

#[test]
#[ignore = "a Lambda function process that the other tests start as a child, not a test"]
fn lambda_function_process() -> Result<()> {
    let Ok(mode) = std::env::var(MODE) else {
        eprintln!("{MODE} is not set: this runs only as a child of the runtime API tests");
        return Ok(());
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(lambda_runtime::run(service_fn(move |event| {
            let (mode, calls) = (mode.clone(), calls.clone());
            async move { handler(&mode, &calls, event).await }
        })))
        .map_err(|e| anyhow::anyhow!("lambda runtime stopped: {e}"))
}

/// Starts the function process against `api`, the way Lambda starts `bootstrap`.
fn start_function(api: &LambdaRuntimeApi, mode: &str) -> Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .args([
            "lambda_function_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env("AWS_LAMBDA_RUNTIME_API", api.addr())
        .env("AWS_LAMBDA_FUNCTION_NAME", "flowlog-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

fn fast_retries() -> flowlog_emulator::runtime_api::LambdaRuntimeApiBuilder {
    LambdaRuntimeApi::builder().retry_delays([Duration::from_millis(10), Duration::from_millis(20)])
}

#[tokio::test]
async fn a_lambda_runtime_handler_receives_the_event_and_its_context() -> Result<()> {
    let api = fast_retries().function_name("fwd").start().await?;
    let _function = start_function(&api, "echo")?;
    let event = json!({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]});

    let id = api.invoke(event.clone());
    api.wait_idle(WAIT).await?;

    let outcome = &api.outcomes()[0];
    assert_eq!(outcome.id, id);
    assert_eq!(outcome.state, InvocationState::Succeeded);
    let AttemptResult::Succeeded { response } = &outcome.attempts[0].result else {
        anyhow::bail!("expected success, got {outcome:?}");
    };
    assert_eq!(response["echo"], event);
    assert_eq!(
        response["request_id"],
        outcome.attempts[0].request_id.as_str()
    );
    assert_eq!(response["arn"], api.function_arn());
    assert!(
        response["deadline_ms"]
            .as_u64()
            .is_some_and(|d| d > 1_700_000_000_000)
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_handler_sees_exactly_three_attempts_then_the_event_is_dead_lettered()
-> Result<()> {
    let api = fast_retries().start().await?;
    let _function = start_function(&api, "fail")?;

    let id = api.invoke(json!({"n": 7}));
    api.wait_idle(WAIT).await?;

    let outcome = &api.outcomes()[0];
    assert_eq!(outcome.state, InvocationState::DeadLettered);
    assert_eq!(outcome.attempts.len(), 3);
    for (i, attempt) in outcome.attempts.iter().enumerate() {
        let AttemptResult::Failed { error, .. } = &attempt.result else {
            anyhow::bail!("attempt {} did not fail: {attempt:?}", i + 1);
        };
        let message = error["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.contains(&attempt.request_id),
            "the handler saw attempt {}: {message}",
            i + 1
        );
        assert!(message.contains(&format!("call {}", i + 1)), "{message}");
    }
    let letters = api.dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].id.as_str(),
            &letters[0].event,
            letters[0].attempts
        ),
        (id.as_str(), &json!({"n": 7}), 3)
    );
    Ok(())
}

#[tokio::test]
async fn a_handler_past_its_deadline_counts_as_a_failure() -> Result<()> {
    let api = fast_retries()
        .timeout(Duration::from_millis(100))
        .max_retry_attempts(1)
        .start()
        .await?;
    let _function = start_function(&api, "sleep")?;

    api.invoke(json!({}));
    api.wait_idle(WAIT).await?;

    let outcome = &api.outcomes()[0];
    let results: Vec<&AttemptResult> = outcome.attempts.iter().map(|a| &a.result).collect();
    assert_eq!(
        results,
        [&AttemptResult::TimedOut, &AttemptResult::TimedOut]
    );
    assert_eq!(api.dead_letters()[0].last_result, AttemptResult::TimedOut);
    Ok(())
}

#[tokio::test]
async fn max_retry_attempts_zero_dead_letters_after_one_attempt() -> Result<()> {
    let api = fast_retries().max_retry_attempts(0).start().await?;
    let _function = start_function(&api, "fail")?;

    api.invoke(json!({}));
    api.wait_idle(WAIT).await?;

    assert_eq!(api.outcomes()[0].attempts.len(), 1);
    assert_eq!(api.dead_letters()[0].attempts, 1);
    Ok(())
}

#[tokio::test]
async fn a_retry_that_succeeds_is_not_dead_lettered() -> Result<()> {
    let api = fast_retries().start().await?;
    let _function = start_function(&api, "fail-once")?;

    api.invoke(json!({"a": 1}));
    api.invoke(json!({"b": 2}));
    api.wait_idle(WAIT).await?;

    let outcomes = api.outcomes();
    assert!(
        outcomes
            .iter()
            .all(|o| o.state == InvocationState::Succeeded),
        "{outcomes:?}"
    );
    let attempts: Vec<usize> = outcomes.iter().map(|o| o.attempts.len()).collect();
    assert_eq!(
        attempts,
        [2, 1],
        "only the first call failed, and it was the first event"
    );
    assert!(api.dead_letters().is_empty());
    Ok(())
}
