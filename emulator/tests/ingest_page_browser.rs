//! The live page in a real browser: Debian's `chromium`, headless, driven over WebDriver by its
//! `chromedriver` (through fantoccini), against a mock Site24x7 fed with known uploads over
//! HTTP (gzip JSON arrays, as the forwarder sends them: generated VPC flow-log traffic, a 503
//! and a reset that get retried, one upload refused for its log type).
//!
//! Needs `chromium` and `chromedriver`: `make tools` installs them (`apt-get install -y chromium
//! chromium-driver`); `FLOWLOG_CHROMIUM` and `FLOWLOG_CHROMEDRIVER` override where they are.
//! Writes a screenshot, `live-page.png`, under the target directory (`target/tmp/`);
//! `docs/live-page.png` in the repository is a copy of it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};
use flowlog_emulator::generator::{self, GenerateOptions, LogFormat};
use flowlog_emulator::ingest::{Fault, MockSite24x7};
use futures::FutureExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long the page may take to show what the mock holds (it polls every second).
const PAGE_DEADLINE: Duration = Duration::from_secs(30);
const AGENTS: [&str; 2] = ["flowlogs-prod", "flowlogs-staging"];

/// Where a tool is: `$env`, else the first of `names` on `PATH`, else a message saying how to
/// install it.
fn find_tool(env: &str, names: &[&str]) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        ensure!(
            path.is_file(),
            "{env}={} is not a file: point it at the binary, or unset it to look on PATH",
            path.display()
        );
        return Ok(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/lib/chromium")])
        .collect();
    for name in names {
        if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
            return Ok(found);
        }
    }
    bail!(
        "{} not found on PATH: install Debian's chromium and its WebDriver with \
         `sudo apt-get update && sudo apt-get install -y chromium chromium-driver` \
         (`make tools` does it), or set {env} to the binary",
        names.join(" or ")
    )
}

/// `chromedriver` on a port of its choosing; killed when dropped.
struct Driver {
    url: String,
    _child: tokio::process::Child,
}

impl Driver {
    /// Starts it with `--port=0` and reads the port it prints once it listens.
    async fn start(path: &Path) -> Result<Self> {
        let mut child = tokio::process::Command::new(path)
            .args(["--port=0", "--log-level=WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let stdout = child.stdout.take().context("chromedriver's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok())
                {
                    return Ok(port);
                }
            }
            bail!("chromedriver exited before it listened")
        })
        .await
        .context("chromedriver did not say it listened within 30 s")??;
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }
}

/// chromedriver's log of the page's console (`goog:loggingPrefs`), read and cleared.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// A headless chromium session with a fresh profile, flags as this machine needs them.
async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Result<Client> {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,1800",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let Value::Object(capabilities) = capabilities else {
        bail!("capabilities are an object");
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .context("a chromium session through chromedriver")
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

async fn post(mock: &MockSite24x7, log_type: &str, records: &[Value]) -> Result<reqwest::Response> {
    let body = gzip(&serde_json::to_vec(records)?)?;
    Ok(reqwest::Client::new()
        .post(mock.upload_url())
        .header("X-DeviceKey", mock.device_key())
        .header("X-LogType", log_type)
        .header("X-StreamMode", "1")
        .header("Log-Size", (body.len() * 3).to_string())
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("User-Agent", "AWS-Lambda")
        .body(body)
        .send()
        .await?)
}

/// Records as the forwarder builds them from a generated object: header names (`-` → `_`) as
/// keys, the line's tokens as values, `_zl_timestamp` from `start`.
fn records_of(object: &generator::FlowLogObject, agent: &str) -> Result<Vec<Value>> {
    let mut text = String::new();
    MultiGzDecoder::new(&object.body[..]).read_to_string(&mut text)?;
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .context("a header line")?
        .split_whitespace()
        .map(|n| n.replace('-', "_"))
        .collect();
    lines
        .map(|line| {
            let mut record: serde_json::Map<String, Value> = names
                .iter()
                .zip(line.split_whitespace())
                .map(|(n, v)| (n.clone(), Value::from(v)))
                .collect();
            let start: u64 = record["start"].as_str().unwrap_or("0").parse()?;
            record.insert("_zl_timestamp".into(), json!(start * 1000));
            record.insert("s247agentuid".into(), json!(agent));
            Ok(Value::Object(record))
        })
        .collect()
}

/// What the test knows the page must show, counted from the records sent.
#[derive(Debug, Default)]
struct Truth {
    records: u64,
    accept: u64,
    reject: u64,
    per_agent: HashMap<String, u64>,
    talker_bytes: HashMap<(String, String), u64>,
    rejected_ports: HashMap<String, u64>,
}

impl Truth {
    fn add(&mut self, records: &[Value]) {
        for r in records {
            let field = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
            self.records += 1;
            *self.per_agent.entry(field("s247agentuid")).or_default() += 1;
            match field("action").as_str() {
                "ACCEPT" => self.accept += 1,
                "REJECT" => {
                    self.reject += 1;
                    *self.rejected_ports.entry(field("dstport")).or_default() += 1;
                }
                _ => {}
            }
            if field("srcaddr") != "-" {
                let bytes: u64 = field("bytes").parse().unwrap_or(0);
                *self
                    .talker_bytes
                    .entry((field("srcaddr"), field("dstaddr")))
                    .or_default() += bytes;
            }
        }
    }

    /// The heaviest entry; equal weights by key, as the page ranks them.
    fn top<K: Ord + Clone>(map: &HashMap<K, u64>) -> Option<(K, u64)> {
        map.iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, v)| (k.clone(), *v))
    }
}

/// What the page shows, read from its DOM (and its charts) in one script.
#[derive(Debug, Deserialize)]
struct Shown {
    version: Option<String>,
    figures: HashMap<String, Figure>,
    answers: HashMap<String, u64>,
    talker: Option<Row>,
    port: Option<Row>,
    upload: Option<Row>,
    scope: String,
    chart_action: HashMap<String, u64>,
    same_document: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Figure {
    value: Option<String>,
    text: String,
}

#[derive(Debug, Deserialize)]
struct Row {
    key: String,
    value: String,
    text: String,
}

const READ_PAGE: &str = r"
const figures = {};
for (const el of document.querySelectorAll('[data-figure]')) {
  figures[el.dataset.figure] = { value: el.dataset.value ?? null, text: el.textContent };
}
const answers = {};
for (const li of document.querySelectorAll('#answers li')) answers[li.dataset.answer] = Number(li.dataset.value);
const row = (table, keyCell, key) => {
  const tr = document.querySelector(`${table} tbody tr`);
  const cell = tr && tr.querySelector(keyCell);
  if (!cell) return null;
  return { key: key(cell, tr), value: tr.querySelector('.num:last-child')?.dataset.value ?? tr.dataset.outcome ?? '', text: tr.textContent };
};
const chart = Chart.getChart(document.getElementById('chart-action'));
const chart_action = {};
for (const set of chart ? chart.data.datasets : []) chart_action[set.label] = set.data.reduce((a, b) => a + b, 0);
return {
  version: document.body.dataset.version ?? null,
  figures, answers, chart_action,
  talker: row('#talkers-bytes', 'td.addr', (c) => `${c.dataset.src} ${c.dataset.dst}`),
  port: row('#rejected-ports', 'td[data-port]', (c) => c.dataset.port),
  upload: row('#uploads', 'td.num', (c, tr) => tr.dataset.seq),
  scope: document.getElementById('records-scope').textContent,
  same_document: window.__sameDocument ?? null,
};
";

async fn read_page(client: &Client) -> Result<Shown> {
    let value = client.execute(READ_PAGE, Vec::new()).await?;
    serde_json::from_value(value.clone()).with_context(|| format!("the page's state: {value}"))
}

/// Reads the page until `done` holds (it polls the mock every second), or fails showing the
/// last state.
async fn wait_for(client: &Client, what: &str, done: impl Fn(&Shown) -> bool) -> Result<Shown> {
    let deadline = tokio::time::Instant::now() + PAGE_DEADLINE;
    loop {
        let shown = read_page(client).await?;
        if done(&shown) {
            return Ok(shown);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the page did not show {what} within {PAGE_DEADLINE:?}; it shows {shown:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(mock: &MockSite24x7, path: &str) -> Result<Value> {
    Ok(reqwest::get(format!("{}{path}", mock.uri()))
        .await?
        .json()
        .await?)
}

fn figure(shown: &Shown, name: &str) -> Result<u64> {
    let f = shown
        .figures
        .get(name)
        .with_context(|| format!("figure {name}"))?;
    let value: u64 = f
        .value
        .as_deref()
        .unwrap_or_default()
        .parse()
        .with_context(|| format!("{name}: {f:?}"))?;
    Ok(value)
}

/// Feeds the mock: 15 generated minutes as uploads alternating between two agents, the first
/// answered 503 and the second reset once (each then retried), one refused for its log type.
async fn feed(mock: &MockSite24x7) -> Result<Truth> {
    let mut options = GenerateOptions {
        seed: 11,
        duration_secs: 900,
        ..GenerateOptions::default()
    };
    options.service.format = LogFormat::default_format();
    options.service.aggregation = 60;
    let generated = generator::generate(&options)?;
    let mut truth = Truth::default();
    for (i, object) in generated.objects.iter().enumerate() {
        let records = records_of(object, AGENTS[i % 2])?;
        match i {
            0 => mock.faults(vec![
                Fault::status(503)
                    .retry_after(Duration::from_secs(1))
                    .times(1),
            ])?,
            1 => mock.faults(vec![Fault::reset_connection().times(1)])?,
            _ => mock.clear_faults(),
        }
        if i < 2 {
            let refused = post(mock, mock.log_type(), &records).await;
            ensure!(
                !matches!(refused, Ok(ref r) if r.status() == 200),
                "fault {i}"
            );
        }
        ensure!(post(mock, mock.log_type(), &records).await?.status() == 200);
        truth.add(&records);
    }
    let wrong_type = post(mock, "apache_access", &[]).await?;
    ensure!(wrong_type.status() == 400);
    Ok(truth)
}

#[tokio::test]
async fn the_live_page_shows_the_traffic_and_follows_new_uploads() -> Result<()> {
    // Arrange
    let chromium = find_tool("FLOWLOG_CHROMIUM", &["chromium", "chromium-browser"])?;
    let chromedriver = find_tool("FLOWLOG_CHROMEDRIVER", &["chromedriver"])?;
    let mock = MockSite24x7::start().await?;
    let truth = feed(&mock).await?;
    let driver = Driver::start(&chromedriver).await?;
    let profile = tempfile::tempdir()?;
    let client = browser(&driver, &chromium, profile.path()).await?;

    // Act and assert (the session is closed whatever happens, a failed assertion included, so
    // no browser outlives the test)
    let checked = AssertUnwindSafe(check_page(&client, &mock, &truth))
        .catch_unwind()
        .await;
    let _ = client.close().await;
    match checked {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn check_page(client: &Client, mock: &MockSite24x7, truth: &Truth) -> Result<()> {
    client.goto(&mock.page_url()).await?;
    let summary = get(mock, "/_emulator/summary").await?;
    let version = summary["version"].to_string();
    let shown = wait_for(client, "every upload", |s| {
        s.version.as_deref() == Some(version.as_str())
    })
    .await?;

    // The known totals, and the same figures as /_emulator/stats.
    let stats = get(mock, "/_emulator/stats").await?;
    for name in [
        "records",
        "requests",
        "raw_bytes",
        "gzip_bytes",
        "log_size",
        "connection_resets",
    ] {
        let value = figure(&shown, name)?;
        assert_eq!(Some(value), stats[name].as_u64(), "{name}");
        assert_eq!(
            shown.figures[name].text.replace(',', ""),
            value.to_string(),
            "{name} as shown"
        );
    }
    assert_eq!(figure(&shown, "records")?, truth.records);
    assert_eq!(figure(&shown, "shown.records")?, truth.records);
    assert_eq!(figure(&shown, "action.ACCEPT")?, truth.accept);
    assert_eq!(figure(&shown, "action.REJECT")?, truth.reject);
    assert_eq!(
        shown.chart_action.get("ACCEPT"),
        Some(&truth.accept),
        "the chart draws them"
    );
    assert_eq!(shown.chart_action.get("REJECT"), Some(&truth.reject));
    assert_eq!(
        shown.answers.get("503 injected"),
        Some(&1),
        "{:?}",
        shown.answers
    );
    assert_eq!(shown.answers.get("reset injected"), Some(&1));
    assert_eq!(shown.answers.get("400 refused"), Some(&1));
    assert_eq!(
        shown.answers.get("200").copied(),
        stats["by_status"]["200"].as_u64()
    );

    // Top talker and rejected port.
    let ((src, dst), bytes) = Truth::top(&truth.talker_bytes).context("a talker")?;
    let talker = shown.talker.as_ref().context("a top talker row")?;
    assert_eq!(talker.key, format!("{src} {dst}"), "{talker:?}");
    assert!(
        talker.text.contains(&format!("{src} → {dst}")),
        "{talker:?}"
    );
    let top: u64 = talker.value.parse()?;
    assert!(
        top >= bytes,
        "a top figure is never below the truth: {top} < {bytes}"
    );
    let (port, rejects) = Truth::top(&truth.rejected_ports).context("a rejected port")?;
    let row = shown.port.as_ref().context("a rejected port row")?;
    assert_eq!(
        (row.key.as_str(), row.value.as_str()),
        (port.as_str(), rejects.to_string().as_str())
    );

    // The filter by agent narrows the records without reloading, and widens back.
    let agent = AGENTS[1];
    client
        .execute(
            "const s = document.getElementById('agent'); s.value = arguments[0]; \
             s.dispatchEvent(new Event('change')); window.__sameDocument = 'kept';",
            vec![json!(agent)],
        )
        .await?;
    let want = truth.per_agent[agent];
    let filtered = wait_for(client, "one agent's records", |s| {
        s.scope.contains(agent) && figure(s, "shown.records").ok() == Some(want)
    })
    .await?;
    assert_eq!(
        figure(&filtered, "records")?,
        truth.records,
        "totals stay the whole mock's"
    );
    assert!(
        client
            .current_url()
            .await?
            .as_str()
            .ends_with(&format!("?agent={agent}"))
    );
    client
        .execute(
            "const s = document.getElementById('agent'); s.value = ''; s.dispatchEvent(new Event('change'));",
            Vec::new(),
        )
        .await?;
    wait_for(client, "all records again", |s| {
        figure(s, "shown.records").ok() == Some(truth.records)
    })
    .await?;

    // A further upload shows up without a reload: a new heaviest talker and rejected port.
    let mut extra = vec![json!({
        "srcaddr": "192.0.2.200", "dstaddr": "10.0.5.5", "dstport": "443", "protocol": "6",
        "packets": "90000", "bytes": (bytes * 2).to_string(), "action": "ACCEPT", "log_status": "OK",
        "_zl_timestamp": 1_768_464_600_000_u64, "s247agentuid": AGENTS[0],
    })];
    extra.extend((0..rejects + 10).map(|i| {
        json!({"srcaddr": format!("198.51.100.{}", i % 200), "dstaddr": "10.0.5.5", "dstport": "31337",
               "protocol": "6", "packets": "1", "bytes": "40", "action": "REJECT", "log_status": "OK",
               "_zl_timestamp": 1_768_464_600_000_u64 + i * 1000, "s247agentuid": AGENTS[0]})
    }));
    let before = figure(&shown, "requests")?;
    ensure!(post(mock, mock.log_type(), &extra).await?.status() == 200);
    let total = truth.records + extra.len() as u64;
    let version = get(mock, "/_emulator/summary").await?["version"].to_string();
    let live = wait_for(client, "the further upload", |s| {
        s.version.as_deref() == Some(version.as_str())
    })
    .await?;
    assert_eq!(figure(&live, "records")?, total);
    assert_eq!(
        live.same_document.as_deref(),
        Some("kept"),
        "no reload happened"
    );
    assert_eq!(
        live.talker.as_ref().map(|t| t.key.as_str()),
        Some("192.0.2.200 10.0.5.5")
    );
    assert_eq!(live.port.as_ref().map(|p| p.key.as_str()), Some("31337"));
    assert_eq!(
        live.upload.as_ref().map(|u| u.key.clone()),
        Some((before + 1).to_string())
    );
    let stats = get(mock, "/_emulator/stats").await?;
    assert_eq!(
        Some(figure(&live, "gzip_bytes")?),
        stats["gzip_bytes"].as_u64()
    );

    // No errors in the browser's console.
    let log = client.issue_cmd(BrowserLog).await?;
    let errors: Vec<&Value> = log
        .as_array()
        .context("chromedriver's browser log")?
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // The screenshot, the whole page: the window grows by what does not fit in the viewport.
    let height = client
        .execute(
            "return window.outerHeight + document.documentElement.scrollHeight - window.innerHeight;",
            Vec::new(),
        )
        .await?;
    let height = u32::try_from(height.as_u64().unwrap_or(1800)).unwrap_or(1800);
    client.set_window_size(1280, height).await?;
    let png = client.screenshot().await?;
    ensure!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-page.png");
    std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
    println!("screenshot: {}", path.display());
    Ok(())
}
