//! Cross-check of the two halves written apart: every line the generator writes parses with the
//! forwarder's parser, field for field; and the ground-truth comparison used by every other
//! end-to-end test is exact on those records and notices what is missing or duplicated.

use flowlog_e2e::scenario::{V5_FORMAT, all_fields_format};
use flowlog_e2e::{FlowLogRun, GroundTruth, gunzip};
use flowlog_forwarder::{BatchLimits, Input, LogTypeConfig, ObjectContext, dry_run};
use serde_json::Value;

/// Parses every object of `run` as `flowlog-forwarder parse` would; returns all records.
fn parse_run(run: &FlowLogRun) -> anyhow::Result<(GroundTruth, Vec<Value>)> {
    let generated = run.generate()?;
    let mut truth = GroundTruth::new();
    truth.add_run(&generated)?;
    let config = LogTypeConfig::builtin_vpc();
    let mut all = Vec::new();
    for object in &generated.objects {
        let mut out = Vec::new();
        let ctx = ObjectContext::now(&object.bucket, &object.key);
        let summary = dry_run(
            &config,
            ctx,
            Input::Stream(&object.body[..]),
            BatchLimits::default(),
            true,
            &mut out,
        )?;
        anyhow::ensure!(
            summary.is_clean() && summary.accounting.unparsable == 0,
            "{}: {summary}",
            object.key
        );
        anyhow::ensure!(summary.accounting.records == object.summary.records);
        let records: Vec<Value> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect::<Result<_, _>>()?;
        // Values equal the line's tokens, in the header's order.
        let text = gunzip(&object.body)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
        for (line, record) in lines.zip(&records) {
            for (name, token) in header.iter().zip(line.split(' ')) {
                let value = record.get(name.replace('-', "_")).and_then(Value::as_str);
                anyhow::ensure!(
                    value == Some(token),
                    "{}: field {name} is {value:?}, the line has {token:?}\n  line: {line}",
                    object.key
                );
            }
        }
        all.extend(records);
    }
    Ok((truth, all))
}

#[test]
fn every_generated_line_parses_into_a_record_holding_its_tokens() -> anyhow::Result<()> {
    for format in [
        "default".to_owned(),
        V5_FORMAT.to_owned(),
        all_fields_format(),
    ] {
        // Arrange
        let run = FlowLogRun {
            format: format.clone(),
            duration_secs: 600,
            ..FlowLogRun::default()
        };

        // Act
        let (truth, records) = parse_run(&run)?;

        // Assert
        assert!(truth.records() > 100, "{format}: too little traffic");
        truth.compare(&records).assert_exact()?;
    }
    Ok(())
}

#[test]
fn the_comparison_names_missing_and_duplicated_records_per_format() -> anyhow::Result<()> {
    // Arrange
    let run = FlowLogRun {
        format: V5_FORMAT.into(),
        duration_secs: 300,
        ..FlowLogRun::default()
    };
    let (truth, mut records) = parse_run(&run)?;
    let dropped = records.pop();
    let copy = records.first().cloned();
    records.extend(copy);
    records.push(serde_json::json!({"message": "not a flow-log record"}));

    // Act
    let cmp = truth.compare(&records);

    // Assert
    assert!(dropped.is_some());
    assert!(!cmp.is_exact());
    assert_eq!(cmp.missing.get(&0), Some(&1), "{cmp}");
    assert_eq!(cmp.duplicate_count(), 1, "{cmp}");
    assert_eq!(cmp.unidentified, 1, "{cmp}");
    let text = cmp.to_string();
    assert!(
        text.contains("missing=1 extra=0 duplicates=1"),
        "the report names the counts per format:\n{text}"
    );
    assert!(cmp.assert_complete_with_duplicates_at_most(5).is_err());
    Ok(())
}
