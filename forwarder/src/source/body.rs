//! The object body as async bytes: counted, and resumed with a ranged
//! GetObject when the connection breaks mid-body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::DisplayErrorContext;
use tokio::io::{AsyncRead, ReadBuf};

use super::error::ReadError;
use super::reader::{AsyncBody, ByteCounter};
use super::retry::RetryPolicy;

/// What is needed to ask again for the rest of the same object version.
pub(crate) struct ResumeWith {
    pub(crate) client: Client,
    /// ETag of the version being read: the ranged request carries `If-Match`,
    /// so a changed object fails instead of splicing two versions.
    pub(crate) etag: String,
    /// The S3 version being read, on versioned buckets.
    pub(crate) version_id: Option<String>,
    pub(crate) policy: RetryPolicy,
    /// Ranged requests still allowed for this object.
    pub(crate) resumes_left: u32,
}

type Reopen = Pin<Box<dyn Future<Output = Result<AsyncBody, String>> + Send>>;

enum State {
    Reading(AsyncBody),
    Reopening {
        first_error: io::Error,
        reopen: Reopen,
    },
}

/// Counts body bytes; on a transport error, resumes from the offset reached
/// (`Range: bytes=N-`, `If-Match`) while [`ResumeWith::resumes_left`] lasts;
/// otherwise fails with [`ReadError::Body`] and the offset.
pub(crate) struct CountingBody {
    state: State,
    counter: ByteCounter,
    bucket: String,
    key: String,
    resume: Option<ResumeWith>,
}

impl CountingBody {
    pub(crate) fn new(
        inner: AsyncBody,
        counter: ByteCounter,
        bucket: &str,
        key: &str,
        resume: Option<ResumeWith>,
    ) -> Self {
        Self {
            state: State::Reading(inner),
            counter,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            resume,
        }
    }

    fn fail(&self, source: io::Error) -> io::Error {
        ReadError::Body {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            offset: self.counter.get(),
            source,
        }
        .into_io()
    }

    /// Starts a ranged request for the rest, if allowed.
    fn reopen(&mut self) -> Option<Reopen> {
        let resume = self.resume.as_mut().filter(|r| r.resumes_left > 0)?;
        let used = resume
            .policy
            .max_attempts
            .saturating_sub(resume.resumes_left);
        resume.resumes_left -= 1;
        let wait = resume.policy.backoff(used.max(1));
        let client = resume.client.clone();
        let (bucket, key) = (self.bucket.clone(), self.key.clone());
        let if_match = format!("\"{}\"", resume.etag);
        let version_id = resume.version_id.clone();
        let offset = self.counter.get();
        tracing::warn!(%bucket, %key, offset, ?wait, "S3 body broke; resuming with a ranged GetObject");
        Some(Box::pin(async move {
            tokio::time::sleep(wait).await;
            let output = client
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .set_version_id(version_id)
                .range(format!("bytes={offset}-"))
                .if_match(if_match)
                .customize()
                .config_override(
                    aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "resuming at byte {offset} failed: {}",
                        DisplayErrorContext(e)
                    )
                })?;
            let body: AsyncBody = Box::pin(output.body.into_async_read());
            Ok(body)
        }))
    }
}

impl AsyncRead for CountingBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let this = &mut *self;
            match &mut this.state {
                State::Reading(body) => {
                    let before = buf.filled().len();
                    match body.as_mut().poll_read(cx, buf) {
                        Poll::Ready(Ok(())) => {
                            this.counter.add(buf.filled().len() - before);
                            return Poll::Ready(Ok(()));
                        }
                        Poll::Ready(Err(error)) => match this.reopen() {
                            Some(reopen) => {
                                this.state = State::Reopening {
                                    first_error: error,
                                    reopen,
                                };
                            }
                            None => return Poll::Ready(Err(this.fail(error))),
                        },
                        Poll::Pending => return Poll::Pending,
                    }
                }
                State::Reopening {
                    first_error,
                    reopen,
                } => match reopen.as_mut().poll(cx) {
                    Poll::Ready(Ok(body)) => this.state = State::Reading(body),
                    Poll::Ready(Err(message)) => {
                        let error =
                            io::Error::new(first_error.kind(), format!("{first_error}; {message}"));
                        return Poll::Ready(Err(this.fail(error)));
                    }
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}
