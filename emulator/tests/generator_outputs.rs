//! The `generate` command end to end: flags parsed like the binary parses them, objects written
//! to a directory tree of real keys or PUT into an S3 endpoint (moto), manifest on disk.

mod generator_support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use flowlog_emulator::generator::cli::{GenerateArgs, run};
use flowlog_emulator::generator::{Manifest, RecordsDigest, S3Target, line_digest, s3_client};
use generator_support::gunzip;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    generate: GenerateArgs,
}

fn args(extra: &[&str]) -> anyhow::Result<GenerateArgs> {
    let mut argv = vec![
        "generate",
        "--seed",
        "9",
        "--start",
        "2026-01-15T10:00:00Z",
        "--duration",
        "15m",
        "--aggregation",
        "60",
    ];
    argv.extend_from_slice(extra);
    Ok(Cli::try_parse_from(argv)?.generate)
}

fn digest_of(body: &[u8]) -> anyhow::Result<(u64, String)> {
    let mut digest = RecordsDigest::new();
    let mut n = 0;
    for line in gunzip(body)?.lines().skip(1) {
        digest.add(line_digest(&line.split_whitespace().collect::<Vec<_>>()));
        n += 1;
    }
    Ok((n, digest.to_hex()))
}

#[tokio::test]
async fn generate_writes_real_keys_under_the_output_directory_and_a_manifest() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    let manifest_path = dir.path().join("manifest.json");
    let (out_s, manifest_s) = (
        out.to_string_lossy().into_owned(),
        manifest_path.to_string_lossy().into_owned(),
    );
    run(args(&[
        "--destination",
        "arn:aws:s3:::my-logs/flows/",
        "--hive",
        "--out",
        &out_s,
        "--manifest",
        &manifest_s,
    ])?)
    .await?;
    let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    ensure!(
        !manifest.objects.is_empty() && manifest.seed == 9,
        "manifest {:?}",
        manifest.totals
    );
    ensure!(
        manifest.options.start == "2026-01-15T10:00:00Z" && manifest.options.hive,
        "options {:?}",
        manifest.options
    );
    for entry in &manifest.objects {
        ensure!(
            entry
                .key
                .starts_with("flows/AWSLogs/aws-account-id=123456789012/"),
            "key {}",
            entry.key
        );
        let path: PathBuf = out.join(&entry.bucket).join(&entry.key);
        let body = std::fs::read(&path).with_context(|| format!("{} missing", path.display()))?;
        ensure!(
            digest_of(&body)? == (entry.records, entry.records_digest.clone()),
            "{} differs from its manifest entry",
            entry.key
        );
    }
    Ok(())
}

#[tokio::test]
async fn live_and_batch_runs_of_the_same_flags_write_the_same_manifest() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut manifests = Vec::new();
    for (name, live) in [("batch", false), ("live", true)] {
        let out = dir.path().join(name).to_string_lossy().into_owned();
        let manifest = dir
            .path()
            .join(format!("{name}.json"))
            .to_string_lossy()
            .into_owned();
        let mut flags = vec!["--out", out.as_str(), "--manifest", manifest.as_str()];
        if live {
            flags.extend(["--live", "--speedup", "100000"]);
        }
        run(args(&flags)?).await?;
        manifests.push(std::fs::read_to_string(&manifest)?);
    }
    ensure!(
        manifests[0] == manifests[1],
        "live and batch manifests differ"
    );
    Ok(())
}

#[test]
fn bad_flags_fail_with_a_clear_reason() -> anyhow::Result<()> {
    let table: &[(&[&str], &str)] = &[
        (
            &["--destination", "arn:aws:s3:::bucket/AWSLogs/"],
            "AWSLogs",
        ),
        (
            &[
                "--destination",
                "arn:aws:logs:us-east-1:123456789012:log-group:x",
            ],
            "not an S3 bucket ARN",
        ),
        (
            &["--destination", "arn:aws:s3:::Bad_Bucket"],
            "invalid bucket name",
        ),
        (&["--format", "${srcaddr},${dstaddr}"], "invalid log format"),
        (
            &["--format", "${srcaddr} ${no-such}"],
            "unknown field `no-such`",
        ),
        (&["--duration", "forever"], "invalid duration"),
        (&["--start", "tomorrow"], "invalid start time"),
        (&["--filter", "SOME"], "ALL, ACCEPT or REJECT"),
        (&["--account-id", "42"], "12 digits"),
    ];
    for (flags, reason) in table {
        let mut argv = vec!["generate"];
        argv.extend_from_slice(flags);
        let err = match Cli::try_parse_from(argv)?.generate.options() {
            Ok(o) => match flowlog_emulator::generator::ObjectStream::new(&o) {
                Ok(_) => bail!("{flags:?} was accepted"),
                Err(e) => e.to_string(),
            },
            Err(e) => format!("{e:#}"),
        };
        ensure!(err.contains(reason), "{flags:?}: {err}");
    }
    let aggregation = Cli::try_parse_from(["generate", "--aggregation", "300"])?
        .generate
        .options()?;
    let err = flowlog_emulator::generator::ObjectStream::new(&aggregation)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    ensure!(err.contains("60 or 600"), "{err}");
    Ok(())
}

/// A moto S3 server on a free loopback port, killed on drop.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> anyhow::Result<(Moto, String)> {
    let venv = std::env::var_os("FLOWLOG_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let server = venv.join("bin/moto_server");
    ensure!(
        server.exists(),
        "{} not found: run `make tools`",
        server.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok((Moto(child), format!("http://127.0.0.1:{port}")))
}

#[tokio::test]
async fn generate_puts_every_object_into_an_s3_endpoint() -> anyhow::Result<()> {
    let (_moto, url) = start_moto()?;
    let target = S3Target {
        endpoint_url: Some(url.clone()),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    };
    let client = s3_client(&target).await;
    let mut ready = false;
    for _ in 0..100 {
        if client
            .create_bucket()
            .bucket("flow-bucket")
            .send()
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(ready, "moto did not start at {url}");
    let dir = tempfile::tempdir()?;
    let manifest_path = dir.path().join("manifest.json");
    let manifest_s = manifest_path.to_string_lossy().into_owned();
    run(args(&[
        "--destination",
        "arn:aws:s3:::flow-bucket/",
        "--hourly",
        "--endpoint-url",
        &url,
        "--manifest",
        &manifest_s,
    ])?)
    .await?;
    let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    let listed = client
        .list_objects_v2()
        .bucket("flow-bucket")
        .send()
        .await?;
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let mut expected: Vec<String> = manifest.objects.iter().map(|o| o.key.clone()).collect();
    keys.sort();
    expected.sort();
    ensure!(
        !keys.is_empty() && keys == expected,
        "listed {keys:?}\nexpected {expected:?}"
    );
    for entry in &manifest.objects {
        let body = client
            .get_object()
            .bucket("flow-bucket")
            .key(&entry.key)
            .send()
            .await?
            .body
            .collect()
            .await?
            .into_bytes();
        ensure!(
            digest_of(&body)? == (entry.records, entry.records_digest.clone()),
            "{} differs",
            entry.key
        );
    }
    Ok(())
}
