//! An S3 that throttles: a loopback TCP proxy in front of another S3 endpoint that answers the
//! first `n` GET requests of a new connection with `503 SlowDown` (S3's throttling reply), and
//! passes everything else through byte for byte (so SigV4 signatures, which cover the `Host`
//! header the client sent, stay valid).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const SLOW_DOWN_BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown\
</Code><Message>Please reduce your request rate.</Message><RequestId>E2E</RequestId></Error>";

/// The running proxy; stops when dropped.
#[derive(Debug)]
pub struct SlowDownProxy {
    uri: String,
    served: Arc<AtomicU32>,
    task: JoinHandle<()>,
}

impl SlowDownProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`), throttling
    /// the first `n` GETs.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(upstream: String, n: u32) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let uri = format!("http://{}", listener.local_addr()?);
        let left = Arc::new(AtomicU32::new(n));
        let served = Arc::new(AtomicU32::new(0));
        let counter = served.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, left, counter) = (upstream.clone(), left.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = handle(client, &upstream, &left, &counter).await;
                });
            }
        });
        Ok(Self { uri, served, task })
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url`.
    #[must_use]
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// `SlowDown` replies sent so far.
    #[must_use]
    pub fn slow_downs(&self) -> u32 {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for SlowDownProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    left: &AtomicU32,
    served: &AtomicU32,
) -> std::io::Result<()> {
    // Read until the request line is complete.
    let mut head = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let is_get = head.starts_with(b"GET ") && !head.starts_with(b"GET /?") && {
        let line_end = head.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
        !String::from_utf8_lossy(&head[..line_end]).contains("list-type")
    };
    if is_get
        && left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        served.fetch_add(1, Ordering::SeqCst);
        let response = format!(
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{SLOW_DOWN_BODY}",
            SLOW_DOWN_BODY.len()
        );
        client.write_all(response.as_bytes()).await?;
        return client.shutdown().await;
    }
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
