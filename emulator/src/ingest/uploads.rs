//! The latest uploads and how each was answered, so retries and dead-lettering show on the page.
//!
//! A ring of the last [`KEPT_UPLOADS`] uploads, plus a count of every upload by its answer
//! (`200`, each injected fault, each refusal) since start or the last reset.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Uploads kept for `GET /_emulator/uploads`.
pub(crate) const KEPT_UPLOADS: usize = 500;
/// Agents listed per upload (an upload of the forwarder carries one bucket's records).
const AGENTS_PER_UPLOAD: usize = 8;

/// What became of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// 200: the records were stored.
    Accepted,
    /// A fault rule answered instead of Site24x7's checks (nothing stored).
    Fault,
    /// Site24x7's checks refused it (headers or body; nothing stored).
    Rejected,
}

/// One upload as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UploadEntry {
    /// Position among the uploads since start or reset, from 1 (as counted in `requests`).
    pub seq: u64,
    /// When it was answered, epoch milliseconds.
    pub time_ms: i64,
    /// `X-LogType` as sent (absent when missing).
    pub log_type: Option<String>,
    /// `s247agentuid` values of its stored records (the first few).
    pub agents: Vec<String>,
    /// Records stored.
    pub records: u64,
    /// Uncompressed JSON bytes (stored uploads).
    pub raw_bytes: u64,
    /// Body bytes received, or the declared `Content-Length` when the body was not read.
    pub gzip_bytes: u64,
    /// The `Log-Size` header, when it was a number.
    pub log_size: Option<u64>,
    /// HTTP status answered; absent when the connection was reset.
    pub status: Option<u16>,
    /// What became of it.
    pub outcome: Outcome,
    /// The `x-uploadid` answered with a 200.
    pub upload_id: Option<String>,
    /// Delay injected before answering, if any.
    pub delay_ms: Option<u64>,
    /// The answer in words, e.g. `503 (fault injected, Retry-After 1 s)`.
    pub answer: String,
}

impl UploadEntry {
    /// The label this upload is counted under: its status (or `reset`), with what decided it.
    pub fn answer_key(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "reset".to_owned(), |s| s.to_string());
        match self.outcome {
            Outcome::Accepted => status,
            Outcome::Fault => format!("{status} injected"),
            Outcome::Rejected => format!("{status} refused"),
        }
    }

    /// Whether it belongs under a filter: its `X-LogType`, and an agent among its records
    /// (uploads that stored nothing have no agent and are listed under every agent).
    pub fn matches(&self, log_type: Option<&str>, agent: Option<&str>) -> bool {
        let type_ok = log_type.is_none_or(|t| self.log_type.as_deref() == Some(t));
        let agent_ok =
            agent.is_none_or(|a| self.agents.is_empty() || self.agents.iter().any(|x| x == a));
        type_ok && agent_ok
    }
}

/// Uploads by answer, with how many answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AnswerCount {
    /// `200`, `503 injected`, `reset injected`, `400 refused`, …
    pub answer: String,
    /// Uploads answered so.
    pub uploads: u64,
}

/// The ring of latest uploads and the counts by answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadLog {
    entries: VecDeque<UploadEntry>,
    answers: BTreeMap<String, u64>,
    log_types: BTreeMap<String, u64>,
}

impl UploadLog {
    /// Records an answered upload, forgetting the oldest beyond [`KEPT_UPLOADS`].
    pub fn push(&mut self, mut entry: UploadEntry) {
        entry.agents.truncate(AGENTS_PER_UPLOAD);
        *self.answers.entry(entry.answer_key()).or_default() += 1;
        if let Some(log_type) = &entry.log_type
            && (self.log_types.contains_key(log_type) || self.log_types.len() < 64)
        {
            *self.log_types.entry(log_type.clone()).or_default() += 1;
        }
        if self.entries.len() == KEPT_UPLOADS {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The newest `limit` uploads under a filter, newest first.
    pub fn latest(
        &self,
        limit: usize,
        log_type: Option<&str>,
        agent: Option<&str>,
    ) -> Vec<UploadEntry> {
        self.entries
            .iter()
            .rev()
            .filter(|e| e.matches(log_type, agent))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Every upload by answer, most frequent first.
    pub fn answers(&self) -> Vec<AnswerCount> {
        let mut answers: Vec<AnswerCount> = self
            .answers
            .iter()
            .map(|(answer, &uploads)| AnswerCount {
                answer: answer.clone(),
                uploads,
            })
            .collect();
        answers.sort_by(|a, b| b.uploads.cmp(&a.uploads).then(a.answer.cmp(&b.answer)));
        answers
    }

    /// The `X-LogType` values uploads were sent with (the first 64 distinct ones).
    pub fn log_types(&self) -> impl Iterator<Item = &str> {
        self.log_types.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, status: Option<u16>, outcome: Outcome, agents: &[&str]) -> UploadEntry {
        UploadEntry {
            seq,
            time_ms: 0,
            log_type: Some("vpc".into()),
            agents: agents.iter().map(|a| (*a).to_owned()).collect(),
            records: 0,
            raw_bytes: 0,
            gzip_bytes: 0,
            log_size: None,
            status,
            outcome,
            upload_id: None,
            delay_ms: None,
            answer: String::new(),
        }
    }

    #[test]
    fn uploads_are_counted_by_answer_and_the_ring_keeps_the_newest() {
        let mut log = UploadLog::default();
        for seq in 1..=KEPT_UPLOADS as u64 + 2 {
            log.push(entry(seq, Some(200), Outcome::Accepted, &["a"]));
        }
        log.push(entry(900, Some(503), Outcome::Fault, &[]));
        log.push(entry(901, None, Outcome::Fault, &[]));
        log.push(entry(902, Some(400), Outcome::Rejected, &[]));
        let answers: Vec<(String, u64)> = log
            .answers()
            .into_iter()
            .map(|a| (a.answer, a.uploads))
            .collect();
        assert_eq!(
            answers,
            [
                ("200".to_owned(), KEPT_UPLOADS as u64 + 2),
                ("400 refused".to_owned(), 1),
                ("503 injected".to_owned(), 1),
                ("reset injected".to_owned(), 1),
            ]
        );
        let latest = log.latest(KEPT_UPLOADS + 10, None, None);
        assert_eq!(latest.len(), KEPT_UPLOADS);
        assert_eq!(latest[0].seq, 902);
    }

    #[test]
    fn filters_keep_uploads_without_agents_under_every_agent() {
        let mut log = UploadLog::default();
        log.push(entry(1, Some(200), Outcome::Accepted, &["a"]));
        log.push(entry(2, Some(200), Outcome::Accepted, &["b"]));
        log.push(entry(3, Some(503), Outcome::Fault, &[]));
        let seqs = |v: Vec<UploadEntry>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(log.latest(10, None, Some("a"))), [3, 1]);
        assert_eq!(seqs(log.latest(10, Some("vpc"), None)), [3, 2, 1]);
        assert!(log.latest(10, Some("other"), None).is_empty());
        assert_eq!(log.log_types().collect::<Vec<_>>(), ["vpc"]);
    }
}
