//! The live page: `GET /`, its assets (built into the binary), and the JSON it reads under
//! `/_emulator/` (`summary`, `timeline`, `top`, `uploads`), which scripts may read too.
//!
//! Every answer is built from the running aggregates ([`super::traffic`]) and the upload ring
//! ([`super::uploads`]) under one short lock: never from the stored records. Each carries the
//! `version` of the data (bumped by every upload and reset), so the page re-reads the larger
//! answers only when something changed.

use bytes::Bytes;
use http::{HeaderValue, Method, header};
use http_body_util::Full;
use serde::Serialize;

use super::server::{Resp, Shared, json, text};
use super::traffic::{Slice, Totals};
use super::uploads::KEPT_UPLOADS;

const INDEX_HTML: &str = include_str!("../../assets/page/index.html");
const PAGE_JS: &str = include_str!("../../assets/page/page.js");
const PAGE_CSS: &str = include_str!("../../assets/page/page.css");
/// Chart.js, vendored as one file (version and licence in `emulator/assets/vendor/README.md`).
const CHART_JS: &str = include_str!("../../assets/vendor/chart.umd.min.js");

/// The page loads nothing but its own assets and JSON from this server.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Rows per top table unless `n` says otherwise, and the most allowed.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 100;
/// Uploads listed unless `limit` says otherwise.
const DEFAULT_UPLOADS: usize = 50;

/// Answers the page's routes; `None` for any other path.
pub(super) fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Option<Resp> {
    if method != Method::GET {
        return None;
    }
    let resp = match path {
        "/" | "/index.html" => asset(INDEX_HTML, "text/html; charset=utf-8"),
        "/assets/page.js" => asset(PAGE_JS, "text/javascript; charset=utf-8"),
        "/assets/page.css" => asset(PAGE_CSS, "text/css; charset=utf-8"),
        "/assets/chart.umd.min.js" => asset(CHART_JS, "text/javascript; charset=utf-8"),
        "/_emulator/summary" => reply(path, query, &["log_type", "agent"], |q| summary(shared, q)),
        "/_emulator/timeline" => {
            reply(path, query, &["log_type", "agent"], |q| timeline(shared, q))
        }
        "/_emulator/top" => reply(path, query, &["log_type", "agent", "n"], |q| top(shared, q)),
        "/_emulator/uploads" => reply(path, query, &["log_type", "agent", "limit"], |q| {
            uploads(shared, q)
        }),
        _ => return None,
    };
    Some(resp)
}

fn asset(body: &'static str, content_type: &'static str) -> Resp {
    // Served from the binary as is, without a copy per request.
    let mut resp = Resp::new(Full::new(Bytes::from_static(body.as_bytes())));
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The query parameters of the page's endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct Filter {
    /// Only this `X-LogType` (records: all of them are the mock's one log type).
    pub log_type: Option<String>,
    /// Only records (and uploads) of this `s247agentuid`.
    pub agent: Option<String>,
    #[serde(skip)]
    n: Option<usize>,
    #[serde(skip)]
    limit: Option<usize>,
}

/// Parses `a=b&c=d` (percent-encoded, `+` for space); an empty value means "no filter".
fn parse_query(path: &str, query: Option<&str>, allowed: &[&str]) -> Result<Filter, String> {
    let mut filter = Filter::default();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(&value.replace('+', " "))
            .decode_utf8()
            .map_err(|_| format!("query parameter `{name}` is not UTF-8 once decoded"))?
            .into_owned();
        if !allowed.contains(&name) {
            return Err(format!(
                "unknown query parameter `{name}` for {path}: use {}",
                allowed.join(", ")
            ));
        }
        let number = |max: usize| -> Result<Option<usize>, String> {
            match value.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(format!(
                    "query parameter `{name}` must be a whole number from 1 to {max}, not {value:?}"
                )),
            }
        };
        let text = (!value.is_empty()).then(|| value.clone());
        match name {
            "log_type" => filter.log_type = text,
            "agent" => filter.agent = text,
            "n" => filter.n = number(MAX_TOP)?,
            _ => filter.limit = number(KEPT_UPLOADS)?,
        }
    }
    Ok(filter)
}

fn reply<T: Serialize>(
    path: &str,
    query: Option<&str>,
    allowed: &[&str],
    answer: impl FnOnce(&Filter) -> T,
) -> Resp {
    match parse_query(path, query, allowed) {
        Ok(filter) => {
            let mut resp = json(200, &answer(&filter));
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(reason) => text(400, format!("{reason}\n")),
    }
}

/// The slice of the records a filter selects, or an empty one (another log type, an agent
/// that sent nothing).
fn selected<'a>(
    shared: &Shared,
    traffic: &'a super::traffic::Traffic,
    f: &Filter,
) -> Option<&'a Slice> {
    let other_type = f
        .log_type
        .as_deref()
        .is_some_and(|t| t != shared.expect.log_type);
    if other_type {
        None
    } else {
        traffic.slice(f.agent.as_deref())
    }
}

fn summary(shared: &Shared, f: &Filter) -> serde_json::Value {
    shared.with_page_data(|data| {
        let totals = selected(shared, data.traffic, f).map_or_else(Totals::default, Slice::totals);
        let mut log_types: Vec<&str> = data.uploads.log_types().collect();
        if !log_types.contains(&shared.expect.log_type.as_str()) {
            log_types.push(&shared.expect.log_type);
            log_types.sort_unstable();
        }
        serde_json::json!({
            "version": data.version,
            "log_type": shared.expect.log_type,
            "log_types": log_types,
            "agents": data.traffic.agents().collect::<Vec<_>>(),
            "filter": f,
            "stats": data.stats,
            "answers": data.uploads.answers(),
            "records": totals,
        })
    })
}

fn timeline(shared: &Shared, f: &Filter) -> serde_json::Value {
    shared.with_page_data(|data| {
        let (bucket_ms, buckets) = selected(shared, data.traffic, f)
            .map_or_else(|| (super::timeline::MINUTE_MS, Vec::new()), Slice::timeline);
        serde_json::json!({
            "version": data.version,
            "filter": f,
            "bucket_ms": bucket_ms,
            "buckets": buckets,
        })
    })
}

fn top(shared: &Shared, f: &Filter) -> serde_json::Value {
    let n = f.n.unwrap_or(DEFAULT_TOP);
    shared.with_page_data(|data| {
        let top =
            selected(shared, data.traffic, f).map_or_else(|| Slice::default().top(n), |s| s.top(n));
        serde_json::json!({
            "version": data.version,
            "filter": f,
            "n": n,
            "top": top,
        })
    })
}

fn uploads(shared: &Shared, f: &Filter) -> serde_json::Value {
    let limit = f.limit.unwrap_or(DEFAULT_UPLOADS);
    shared.with_page_data(|data| {
        serde_json::json!({
            "version": data.version,
            "filter": f,
            "kept": KEPT_UPLOADS,
            "uploads": data.uploads.latest(limit, f.log_type.as_deref(), f.agent.as_deref()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded_and_bad_ones_name_the_parameter() {
        let all = ["log_type", "agent", "n", "limit"];
        let ok = parse_query("/p", Some("agent=my+bucket%2F1&log_type=&n=5"), &all);
        assert_eq!(
            ok.map(|f| (f.agent, f.log_type, f.n)),
            Ok((Some("my bucket/1".to_owned()), None, Some(5)))
        );
        for (query, needle) in [
            ("color=red", "unknown query parameter `color` for /p"),
            ("n=0", "`n` must be a whole number from 1 to 100"),
            ("n=x", "`n` must be"),
            (
                "limit=100000",
                "`limit` must be a whole number from 1 to 500",
            ),
            ("agent=%FF", "`agent` is not UTF-8"),
        ] {
            let err = parse_query("/p", Some(query), &all)
                .err()
                .unwrap_or_default();
            assert!(err.contains(needle), "{query}: {err}");
        }
    }
}
