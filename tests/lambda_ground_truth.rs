//! Ground truth in Lambda mode: 30 simulated minutes of traffic (seven flow logs: default, v5
//! custom and all-fields formats; ALL, ACCEPT and REJECT filters; plain, Hive, hourly and
//! Hive+hourly keys; keys with spaces; VPC logs as Parquet, transit-gateway logs as gzip text
//! and as Parquet) PUT into the emulator's S3 with the trigger; the forwarder
//! binary runs as the function, a separate process, against the emulator's Runtime API; the
//! mock Site24x7 must hold exactly the generated records.

use std::time::Duration;

use flowlog_e2e::lambda::{LambdaTestbed, object_lines};
use flowlog_e2e::{Traffic, every_kind_of_run, put_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_simulated_minutes_through_the_lambda_runtime_arrive_exactly_once()
-> anyhow::Result<()> {
    // Arrange
    let traffic = Traffic::generate(&every_kind_of_run("flow-logs", 30))?;
    assert!(traffic.keys().iter().any(|(_, k)| k.contains(' ')));
    let parquet = traffic
        .keys()
        .iter()
        .filter(|(_, k)| k.ends_with(".log.parquet"))
        .count();
    assert!(
        parquet >= 2,
        "Parquet objects of both resource types: {parquet}"
    );
    assert!(traffic.truth.records() > 10_000, "enough traffic to matter");
    let testbed = LambdaTestbed::start(&traffic, Duration::from_secs(60)).await?;
    let function = testbed.start_function()?;

    // Act
    put_all(&testbed.emulator.s3_client(), &traffic.objects).await?;
    testbed
        .wait_idle(&function, Duration::from_secs(120))
        .await?;

    // Assert
    let records = testbed.emulator.ingest().records();
    traffic.truth.compare(&records).assert_exact()?;
    testbed.assert_invocations_succeeded(false)?;
    let lines = object_lines(&function);
    let delivered: Vec<_> = lines.iter().filter(|l| l.outcome == "delivered").collect();
    assert_eq!(
        delivered.len(),
        traffic.objects.len(),
        "one accounting line per object:\n{}",
        function.output()
    );
    for line in delivered {
        assert_eq!(
            line.count("lines"),
            line.count("header") + line.count("records_sent"),
            "{line:?}"
        );
        let parquet = line.object.ends_with(".log.parquet");
        assert_eq!(line.count("header"), u64::from(!parquet), "{line:?}");
    }
    Ok(())
}
