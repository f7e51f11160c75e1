//! Live mode: the same objects as a batch run, released in (simulated) real time so a demo can
//! PUT each one when the service would have delivered it.

use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::ConfigError;
use super::options::GenerateOptions;
use super::service::{FlowLogObject, ObjectStream};

/// How fast simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveOptions {
    /// Simulated seconds per real second (1.0 = real time; 60.0 = an hour in a minute).
    pub speedup: f64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self { speedup: 1.0 }
    }
}

/// Objects in delivery order, each yielded when the simulated clock (which starts at the run's
/// aligned start when the stream is created) reaches its `delivered_at`.
///
/// Generation runs on a blocking thread a few objects ahead; dropping the stream stops it.
/// Call it inside a Tokio runtime (it spawns that thread with `spawn_blocking`).
///
/// # Errors
/// [`ConfigError`] when an option is invalid.
pub fn live(
    options: &GenerateOptions,
    live: LiveOptions,
) -> Result<impl Stream<Item = FlowLogObject> + Send + 'static, ConfigError> {
    if !(live.speedup > 0.0 && live.speedup.is_finite()) {
        return Err(ConfigError::Range {
            name: "speedup",
            value: live.speedup.to_string(),
            reason: "must be a positive number".into(),
        });
    }
    let stream = ObjectStream::new(options)?;
    let (sim_start, _) = stream.period();
    let (tx, rx) = mpsc::channel::<FlowLogObject>(8);
    tokio::task::spawn_blocking(move || {
        for object in stream {
            if tx.blocking_send(object).is_err() {
                break;
            }
        }
    });
    let origin = Instant::now();
    Ok(futures::stream::unfold(rx, move |mut rx| async move {
        let object = rx.recv().await?;
        let sim_elapsed = (object.delivered_at - sim_start).max(0) as f64;
        tokio::time::sleep_until(origin + Duration::from_secs_f64(sim_elapsed / live.speedup))
            .await;
        Some((object, rx))
    }))
}
