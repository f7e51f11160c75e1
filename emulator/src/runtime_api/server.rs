//! The HTTP side of the Lambda Runtime API: the 2018-06-01 routes and the emulator's own.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::AttemptResult;
use super::state::{Book, Refusal};

/// Largest response or error body accepted: Lambda's 6 MB synchronous payload limit.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
const PREFIX: &str = "/2018-06-01/runtime/";

type Resp = Response<Full<Bytes>>;

/// Serves until `shutdown` resolves; open connections (long polls included) are then dropped.
/// A client that does not send a request's headers within `header_read_timeout` is
/// disconnected (a long poll waits after its headers arrived, so it is not affected).
pub(crate) async fn serve(
    book: Arc<Book>,
    listener: TcpListener,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let book = book.clone();
                let builder = builder.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let book = book.clone();
                        async move { Ok::<_, std::convert::Infallible>(route(&book, req).await) }
                    });
                    // Errors here are client disconnects: nothing to report.
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn route(book: &Arc<Book>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if let Some(rest) = path.strip_prefix(PREFIX) {
        let parts: Vec<&str> = rest.split('/').collect();
        return match (&method, parts.as_slice()) {
            (&Method::GET, ["invocation", "next"]) => next(book).await,
            (&Method::POST, ["invocation", id, "response"]) => {
                let id = (*id).to_owned();
                completion(book, &id, req, false).await
            }
            (&Method::POST, ["invocation", id, "error"]) => {
                let id = (*id).to_owned();
                completion(book, &id, req, true).await
            }
            (&Method::POST, ["init", "error"]) => {
                let (error_type, body) = read_error(req).await;
                book.init_error(json!({ "errorType": error_type, "body": body }));
                accepted()
            }
            _ => not_found(&method, &path),
        };
    }
    match (&method, path.as_str()) {
        (&Method::POST, "/_emulator/invoke") => {
            let Ok(body) = Limited::new(req.into_body(), MAX_PAYLOAD).collect().await else {
                return error(413, "RequestTooLarge", "event larger than 6 MiB");
            };
            match serde_json::from_slice::<Value>(&body.to_bytes()) {
                Ok(event) => json_response(202, &json!({ "id": book.invoke(event) })),
                Err(e) => error(
                    400,
                    "InvalidRequestContent",
                    &format!("event is not JSON: {e}"),
                ),
            }
        }
        (&Method::GET, "/_emulator/invocations") => json_response(200, &book.invocations()),
        (&Method::GET, "/_emulator/dead-letters") => json_response(200, &book.dead_letters()),
        (&Method::GET, "/_emulator/init-errors") => json_response(200, &book.init_errors()),
        _ => not_found(&method, &path),
    }
}

async fn next(book: &Arc<Book>) -> Resp {
    let dispatch = tokio::select! {
        () = book.stop.cancelled() => return error(410, "ShuttingDown", "the emulator is stopping"),
        d = book.next() => d,
    };
    let mut resp = json_response(200, &dispatch.event);
    let headers = resp.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &dispatch.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &dispatch.deadline_ms.to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &book.config.arn);
    set("lambda-runtime-trace-id", &dispatch.trace_id);
    resp
}

async fn completion(book: &Arc<Book>, id: &str, req: Request<Incoming>, is_error: bool) -> Resp {
    let result = if is_error {
        let (error_type, body) = read_error(req).await;
        AttemptResult::Failed {
            error_type,
            error: body,
        }
    } else {
        let Ok(collected) = Limited::new(req.into_body(), MAX_PAYLOAD).collect().await else {
            let _ = book.finish(
                id,
                failed("Function.ResponseSizeTooLarge", "response over 6 MiB"),
            );
            return error(413, "RequestEntityTooLarge", "response larger than 6 MiB");
        };
        // A streamed response reports a late failure in trailers.
        let trailer_error = collected
            .trailers()
            .and_then(|t| t.get("lambda-runtime-function-error-type"))
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = parse_body(&collected.to_bytes());
        match trailer_error {
            Some(error_type) => AttemptResult::Failed {
                error_type,
                error: body,
            },
            None => AttemptResult::Succeeded { response: body },
        }
    };
    match book.finish(id, result) {
        Ok(()) => json_response(202, &json!({ "status": "OK" })),
        Err(Refusal::Unknown) => error(
            404,
            "InvalidRequestID",
            &format!("no invocation has request id {id}"),
        ),
        Err(Refusal::Stale) => error(
            410,
            "InvalidRequestID",
            &format!("invocation {id} already ended (answered, errored or timed out)"),
        ),
    }
}

/// Reads an error post: the `Lambda-Runtime-Function-Error-Type` header and the JSON body.
async fn read_error(req: Request<Incoming>) -> (String, Value) {
    let header_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = match Limited::new(req.into_body(), MAX_PAYLOAD).collect().await {
        Ok(c) => parse_body(&c.to_bytes()),
        Err(e) => Value::String(format!("error body unreadable: {e}")),
    };
    let body_type = body
        .get("errorType")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (
        body_type
            .or(header_type)
            .unwrap_or_else(|| "Unhandled".to_owned()),
        body,
    )
}

fn failed(error_type: &str, message: &str) -> AttemptResult {
    AttemptResult::Failed {
        error_type: error_type.to_owned(),
        error: Value::String(message.to_owned()),
    }
}

/// JSON when it parses, else the text as a JSON string: nothing the function sent is lost.
fn parse_body(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn accepted() -> Resp {
    json_response(202, &json!({ "status": "OK" }))
}

fn not_found(method: &Method, path: &str) -> Resp {
    error(404, "NotFound", &format!("no route for {method} {path}"))
}

/// Errors in the Runtime API's shape: `{"errorMessage": …, "errorType": …}`.
fn error(status: u16, error_type: &str, message: &str) -> Resp {
    json_response(
        status,
        &json!({ "errorMessage": message, "errorType": error_type }),
    )
}

fn json_response(status: u16, value: &impl Serialize) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
