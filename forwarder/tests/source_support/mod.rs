//! Test support shared by the source, dead-letter and progress tests: a real
//! local S3 (`moto_server`) over TCP, started per test and killed on drop.
#![allow(dead_code)] // each test crate uses a different subset

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use flowlog_forwarder::source::{S3Settings, build_client};

/// A `moto_server` child process on a free loopback port; killed when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl Moto {
    /// Starts moto from `$FLOWLOG_VENV` (else `<workspace>/.venv`) and waits
    /// until it accepts connections.
    pub fn start() -> anyhow::Result<Self> {
        let venv = std::env::var_os("FLOWLOG_VENV").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"),
            PathBuf::from,
        );
        let bin = venv.join("bin/moto_server");
        if !bin.exists() {
            bail!(
                "{} not found: run `make tools` (or set FLOWLOG_VENV to a venv with moto[server])",
                bin.display()
            );
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = moto.child.try_wait()? {
                bail!("moto_server exited with {status} before listening on {port}");
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen on {port} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(moto)
    }

    /// An aws-sdk-s3 client for this server, built by the forwarder's own switch.
    pub async fn client(&self) -> anyhow::Result<Client> {
        Ok(build_client(&S3Settings::testbed(&self.endpoint, "testing", "testing")).await?)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates `bucket` and stores `body` under `key`.
pub async fn put_object(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    if client.head_bucket().bucket(bucket).send().await.is_err() {
        client.create_bucket().bucket(bucket).send().await?;
    }
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await?;
    Ok(())
}

/// Gzip of `data` as one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}
