//! Live mode: the same objects as a batch run, in delivery order, each released no earlier than
//! its simulated delivery time.

use std::time::Duration;

use anyhow::ensure;
use flowlog_emulator::generator::{GenerateOptions, LiveOptions, generate, live};
use futures::StreamExt as _;

#[tokio::test]
async fn live_mode_releases_the_batch_objects_at_their_delivery_times() -> anyhow::Result<()> {
    let mut options = GenerateOptions {
        seed: 3,
        duration_secs: 1800,
        ..GenerateOptions::default()
    };
    options.service.aggregation = 60;
    let speedup = 20_000.0;
    let batch = generate(&options)?;
    let started = tokio::time::Instant::now();
    let stream = live(&options, LiveOptions { speedup })?;
    futures::pin_mut!(stream);
    let mut n = 0;
    while let Some(object) = stream.next().await {
        let expected = batch
            .objects
            .get(n)
            .ok_or_else(|| anyhow::anyhow!("more live objects than batch objects"))?;
        ensure!(
            object.key == expected.key && object.body == expected.body,
            "object {n}: {} vs {}",
            object.key,
            expected.key
        );
        let due = Duration::from_secs_f64((object.delivered_at - options.start) as f64 / speedup);
        ensure!(
            started.elapsed() >= due,
            "{} released before its delivery time",
            object.key
        );
        n += 1;
    }
    ensure!(
        n == batch.objects.len(),
        "live gave {n} of {} objects",
        batch.objects.len()
    );
    Ok(())
}

#[tokio::test]
async fn a_month_long_live_stream_can_be_cut_short_after_a_few_objects() -> anyhow::Result<()> {
    let options = GenerateOptions {
        duration_secs: 86_400 * 30,
        ..GenerateOptions::default()
    };
    let stream = live(&options, LiveOptions { speedup: 1e9 })?;
    let first: Vec<_> = stream.take(2).collect().await;
    ensure!(first.len() == 2, "got {}", first.len());
    Ok(())
}
