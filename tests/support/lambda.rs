//! The Lambda-mode testbed: the emulator (S3 with the trigger, Runtime API with quick retries,
//! mock Site24x7) and the forwarder binary as the function, a separate process.

use std::time::Duration;

use anyhow::Context as _;
use flowlog_emulator::Emulator;
use flowlog_emulator::runtime_api::{AttemptResult, InvocationState};

use crate::forwarder::{AccountingLine, ForwarderCommand, accounting_lines, log_type_config};
use crate::process::ChildGuard;
use crate::scenario::Traffic;

/// Bucket (without trigger) holding the forwarder's progress markers and dead letters.
pub const STATE_BUCKET: &str = "forwarder-state";

/// A started testbed with buckets for `traffic`.
#[derive(Debug)]
pub struct LambdaTestbed {
    /// The emulator.
    pub emulator: Emulator,
    /// Extra environment for the function (e.g. `FLOWLOG_UPLOADS_IN_FLIGHT`).
    pub function_env: Vec<(String, String)>,
}

impl LambdaTestbed {
    /// Starts the emulator (function timeout `timeout`, retries after 50 and 100 ms) and creates
    /// every bucket of `traffic` with the trigger, plus [`STATE_BUCKET`].
    ///
    /// # Errors
    /// When the emulator cannot start or a bucket cannot be created.
    pub async fn start(traffic: &Traffic, timeout: Duration) -> anyhow::Result<Self> {
        let emulator = Emulator::builder()
            .lambda_runtime(|l| {
                l.timeout(timeout)
                    .retry_delays([Duration::from_millis(50), Duration::from_millis(100)])
            })
            .start()
            .await?;
        for bucket in traffic.buckets() {
            emulator.create_bucket_with_trigger(&bucket).await?;
        }
        emulator
            .s3_client()
            .create_bucket()
            .bucket(STATE_BUCKET)
            .send()
            .await
            .context("creating the state bucket")?;
        Ok(Self {
            emulator,
            function_env: Vec::new(),
        })
    }

    /// Starts the forwarder binary in `lambda` mode against this emulator.
    ///
    /// # Errors
    /// When the binary is missing or cannot start.
    pub fn start_function(&self) -> anyhow::Result<ChildGuard> {
        let mock = self.emulator.ingest();
        let s3 = self.emulator.s3_settings();
        let mut command = ForwarderCommand::new(
            &log_type_config(mock.device_key(), mock.log_type()),
            &["lambda"],
        )?
        .aws_credentials(&s3.access_key, &s3.secret_key, &s3.region)
        .lambda(
            &self.emulator.lambda_runtime().addr(),
            &self.emulator.s3_uri(),
            &mock.upload_url(),
        )
        .env("FLOWLOG_STATE_BUCKET", STATE_BUCKET);
        for (k, v) in &self.function_env {
            command = command.env(k, v);
        }
        command.spawn()
    }

    /// Waits until every invocation succeeded or was dead-lettered.
    ///
    /// # Errors
    /// On timeout, with the function's output.
    pub async fn wait_idle(&self, function: &ChildGuard, timeout: Duration) -> anyhow::Result<()> {
        self.emulator
            .lambda_runtime()
            .wait_idle(timeout)
            .await
            .with_context(|| function.output())
    }

    /// Fails unless every invocation succeeded (on any attempt when `retries_allowed`, else
    /// on the first), naming the failed ones.
    ///
    /// # Errors
    /// The failed invocations and their errors.
    pub fn assert_invocations_succeeded(&self, retries_allowed: bool) -> anyhow::Result<()> {
        let outcomes = self.emulator.lambda_runtime().outcomes();
        let bad: Vec<String> = outcomes
            .iter()
            .filter(|i| {
                i.state != InvocationState::Succeeded || (!retries_allowed && i.attempts.len() != 1)
            })
            .map(|i| {
                let last = i.attempts.last().map(|a| match &a.result {
                    AttemptResult::Failed { error, .. } => error.to_string(),
                    other => format!("{other:?}"),
                });
                format!(
                    "{} {:?} after {} attempt(s): {last:?}",
                    i.id,
                    i.state,
                    i.attempts.len()
                )
            })
            .collect();
        anyhow::ensure!(
            bad.is_empty(),
            "{} of {} invocation(s) did not succeed as expected:\n{}",
            bad.len(),
            outcomes.len(),
            bad.join("\n")
        );
        Ok(())
    }
}

/// Every accounting line the function wrote (JSON logs on stdout, anything on stderr).
#[must_use]
pub fn object_lines(function: &ChildGuard) -> Vec<AccountingLine> {
    accounting_lines(&format!("{}\n{}", function.stdout(), function.stderr()))
}
