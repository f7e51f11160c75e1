//! The Lambda Runtime API over plain HTTP: routes, headers, status codes, retries, dead letters.

use std::time::Duration;

use anyhow::Result;
use flowlog_emulator::runtime_api::{AttemptResult, InvocationState, LambdaRuntimeApi};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn url(api: &LambdaRuntimeApi, path: &str) -> String {
    format!("http://{}/2018-06-01/runtime/{path}", api.addr())
}

/// Fast retries so tests never wait the real minutes.
fn quick() -> flowlog_emulator::runtime_api::LambdaRuntimeApiBuilder {
    LambdaRuntimeApi::builder().retry_delays([Duration::from_millis(5), Duration::from_millis(10)])
}

async fn next(http: &reqwest::Client, api: &LambdaRuntimeApi) -> Result<reqwest::Response> {
    Ok(http.get(url(api, "invocation/next")).send().await?)
}

fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("lambda-runtime-aws-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn next_waits_for_an_invocation_and_carries_the_lambda_headers() -> Result<()> {
    let api = quick().function_name("fwd").start().await?;
    let http = reqwest::Client::new();
    let poll = next(&http, &api);
    let invoke = async {
        tokio::task::yield_now().await;
        api.invoke(json!({"Records": [1]}))
    };

    let (resp, id) = tokio::join!(poll, invoke);
    let resp = resp?;

    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(!request_id(&resp).is_empty());
    let deadline: u64 = h["lambda-runtime-deadline-ms"].to_str()?.parse()?;
    assert!(deadline > 1_700_000_000_000, "epoch milliseconds");
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:fwd"
    );
    assert!(
        h["lambda-runtime-trace-id"]
            .to_str()?
            .starts_with("Root=1-")
    );
    assert_eq!(resp.json::<Value>().await?, json!({"Records": [1]}));
    assert_eq!(api.outcomes()[0].id, id);
    assert_eq!(api.outcomes()[0].state, InvocationState::Running);
    Ok(())
}

#[tokio::test]
async fn a_response_is_accepted_with_202_and_ends_the_invocation() -> Result<()> {
    let api = quick().start().await?;
    let http = reqwest::Client::new();
    api.invoke(json!({"n": 1}));
    let rid = request_id(&next(&http, &api).await?);

    let resp = http
        .post(url(&api, &format!("invocation/{rid}/response")))
        .body(r#"{"ok":true}"#)
        .send()
        .await?;
    api.wait_idle(WAIT).await?;

    assert_eq!(resp.status(), 202);
    let outcome = &api.outcomes()[0];
    assert_eq!(outcome.state, InvocationState::Succeeded);
    assert_eq!(
        outcome.attempts[0].result,
        AttemptResult::Succeeded {
            response: json!({"ok": true})
        }
    );
    assert!(api.dead_letters().is_empty());
    Ok(())
}

#[tokio::test]
async fn an_unknown_request_id_gets_404_and_a_second_answer_gets_410() -> Result<()> {
    let api = quick().start().await?;
    let http = reqwest::Client::new();
    api.invoke(json!({}));
    let rid = request_id(&next(&http, &api).await?);

    let unknown = http
        .post(url(&api, "invocation/nope/response"))
        .body("{}")
        .send()
        .await?;
    let first = http
        .post(url(&api, &format!("invocation/{rid}/response")))
        .body("{}")
        .send()
        .await?;
    let again = http
        .post(url(&api, &format!("invocation/{rid}/error")))
        .body("{}")
        .send()
        .await?;

    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await?["errorType"],
        "InvalidRequestID"
    );
    assert_eq!(first.status(), 202);
    assert_eq!(again.status(), 410);
    Ok(())
}

#[tokio::test]
async fn errors_are_retried_twice_then_dead_lettered_and_readable_over_http() -> Result<()> {
    let api = quick().start().await?;
    let http = reqwest::Client::new();
    let id = api.invoke(json!({"key": "a"}));

    let mut request_ids = Vec::new();
    for _ in 0..3 {
        let rid = request_id(&next(&http, &api).await?);
        let resp = http
            .post(url(&api, &format!("invocation/{rid}/error")))
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.Boom")
            .body(r#"{"errorMessage":"boom","errorType":"Boom"}"#)
            .send()
            .await?;
        assert_eq!(resp.status(), 202);
        request_ids.push(rid);
    }
    api.wait_idle(WAIT).await?;
    let letters: Value = http
        .get(format!("{}/_emulator/dead-letters", api.uri()))
        .send()
        .await?
        .json()
        .await?;
    let invocations: Value = http
        .get(format!("{}/_emulator/invocations", api.uri()))
        .send()
        .await?
        .json()
        .await?;

    request_ids.dedup();
    assert_eq!(request_ids.len(), 3, "each attempt has its own request id");
    assert_eq!(api.dead_letters().len(), 1);
    assert_eq!(letters[0]["id"], id);
    assert_eq!(letters[0]["event"], json!({"key": "a"}));
    assert_eq!(letters[0]["attempts"], 3);
    assert_eq!(letters[0]["last_result"]["error_type"], "Boom");
    assert_eq!(invocations[0]["state"], "dead_lettered");
    assert_eq!(invocations[0]["attempts"].as_array().map(Vec::len), Some(3));
    Ok(())
}

#[tokio::test]
async fn an_attempt_past_its_deadline_fails_and_its_late_answer_is_refused() -> Result<()> {
    let api = quick()
        .timeout(Duration::from_millis(50))
        .max_retry_attempts(0)
        .start()
        .await?;
    let http = reqwest::Client::new();
    api.invoke(json!({}));
    let rid = request_id(&next(&http, &api).await?);

    api.wait_idle(WAIT).await?;
    let late = http
        .post(url(&api, &format!("invocation/{rid}/response")))
        .body("{}")
        .send()
        .await?;

    assert_eq!(api.dead_letters()[0].last_result, AttemptResult::TimedOut);
    assert_eq!(late.status(), 410);
    Ok(())
}

#[tokio::test]
async fn events_can_be_invoked_over_http_by_another_process() -> Result<()> {
    let api = quick().start().await?;
    let http = reqwest::Client::new();

    let resp = http
        .post(format!("{}/_emulator/invoke", api.uri()))
        .body(r#"{"Records":[]}"#)
        .send()
        .await?;
    let bad = http
        .post(format!("{}/_emulator/invoke", api.uri()))
        .body("not json")
        .send()
        .await?;
    let polled = next(&http, &api).await?;

    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(api.outcomes()[0].id, id);
    assert_eq!(bad.status(), 400);
    assert_eq!(polled.json::<Value>().await?, json!({"Records": []}));
    Ok(())
}

#[tokio::test]
async fn an_init_error_is_accepted_and_recorded() -> Result<()> {
    let api = quick().start().await?;
    let resp = reqwest::Client::new()
        .post(url(&api, "init/error"))
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .body(r#"{"errorMessage":"no config","errorType":"ConfigError"}"#)
        .send()
        .await?;
    assert_eq!(resp.status(), 202);
    assert_eq!(api.init_errors()[0]["errorType"], "ConfigError");
    Ok(())
}

#[tokio::test]
async fn more_than_two_retries_is_refused_like_lambda() {
    let started = LambdaRuntimeApi::builder()
        .max_retry_attempts(3)
        .start()
        .await;
    assert!(started.is_err_and(|e| e.to_string().contains("0 to 2")));
}

#[tokio::test]
async fn wait_idle_reports_how_many_invocations_are_still_pending() -> Result<()> {
    let api = quick().start().await?;
    api.invoke(json!({}));
    let err = api.wait_idle(Duration::from_millis(10)).await.err();
    assert!(err.is_some_and(|e| e.to_string().starts_with("1 invocation")));
    Ok(())
}

#[tokio::test]
async fn the_invocations_and_dead_letters_json_keeps_its_shape() -> Result<()> {
    let api = quick().max_retry_attempts(1).start().await?;
    let http = reqwest::Client::new();
    api.invoke(json!({"Records": [{"s3": {"object": {"key": "a b"}}}]}));
    api.invoke(json!({"ok": true}));
    for answer in ["error", "response", "error"] {
        let rid = request_id(&next(&http, &api).await?);
        let body = if answer == "error" {
            r#"{"errorMessage":"boom","errorType":"Boom"}"#
        } else {
            r#"{"done":1}"#
        };
        http.post(url(&api, &format!("invocation/{rid}/{answer}")))
            .body(body)
            .send()
            .await?;
    }
    api.wait_idle(WAIT).await?;

    let invocations: Value = http
        .get(format!("{}/_emulator/invocations", api.uri()))
        .send()
        .await?
        .json()
        .await?;
    let letters: Value = http
        .get(format!("{}/_emulator/dead-letters", api.uri()))
        .send()
        .await?
        .json()
        .await?;

    insta::assert_json_snapshot!("invocations", invocations, {
        "[].id" => "[id]", "[].attempts[].request_id" => "[request-id]"
    });
    insta::assert_json_snapshot!("dead_letters", letters, { "[].id" => "[id]" });
    Ok(())
}
