//! Fault rules for the mock Site24x7: what the next uploads should suffer.
//!
//! One [`Fault`] type is both the Rust API (`Fault::status(503).times(3)`) and the JSON of
//! `POST /_emulator/faults` (`{"status":503,"times":3}`), so tests and scripts speak one vocabulary.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A rule applied to the next uploads: responds with a status, a Site24x7 flag, a dropped
/// connection, or only a delay; up to `times` uploads, optionally with a seeded probability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// HTTP status to answer with instead of processing the upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    /// `Retry-After` header value, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_s: Option<u64>,
    /// Delay before answering (alone: the upload is then processed normally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    /// Close the TCP connection without any response.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reset_connection: bool,
    /// Answer like Site24x7 when the log quota is used up: 400 + `log_license_exceeds=True`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    license_exceeded: bool,
    /// How many uploads the rule applies to; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    /// Chance (0.0–1.0) that the rule fires on a given upload; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
    /// Seed of the rule's random draws, so probabilistic runs repeat exactly (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
}

impl Fault {
    /// Respond with this HTTP status instead of accepting the upload.
    #[must_use]
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// Wait this long, then process the upload normally (or apply the rule's other effect).
    #[must_use]
    pub fn delay(delay: Duration) -> Self {
        Self::default().delayed(delay)
    }

    /// Drop the TCP connection without sending a response.
    #[must_use]
    pub fn reset_connection() -> Self {
        Self {
            reset_connection: true,
            ..Self::default()
        }
    }

    /// Answer as Site24x7 does when the log license is exceeded (400, `log_license_exceeds=True`).
    #[must_use]
    pub fn license_exceeded() -> Self {
        Self {
            license_exceeded: true,
            ..Self::default()
        }
    }

    /// Add a `Retry-After` header (whole seconds, rounded up).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        self.retry_after_s = Some(secs);
        self
    }

    /// Wait this long before the rule's effect.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Apply to at most `n` uploads, then step aside.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire on each upload with this chance (0.0–1.0).
    #[must_use]
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Seed the random draws of [`Fault::probability`], for repeatable runs.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks that the rule means one thing, with a reason that says how to fix it.
    ///
    /// # Errors
    /// A text naming the problem, e.g. two responses in one rule or a probability above 1.
    pub fn validate(&self) -> Result<(), String> {
        let effects = usize::from(self.status.is_some())
            + usize::from(self.reset_connection)
            + usize::from(self.license_exceeded);
        if effects > 1 {
            return Err(format!(
                "fault rule {self:?} has more than one of status, reset_connection, license_exceeded: use one per rule"
            ));
        }
        if effects == 0 && self.delay_ms.is_none() {
            return Err(format!(
                "fault rule {self:?} does nothing: give status, delay_ms, reset_connection or license_exceeded"
            ));
        }
        if let Some(status) = self.status
            && !(100..=599).contains(&status)
        {
            return Err(format!(
                "fault status {status} is not an HTTP status (100-599)"
            ));
        }
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("fault probability {p} is outside 0.0-1.0"));
        }
        if self.retry_after_s.is_some() && self.status.is_none() {
            return Err("retry_after_s needs a status in the same rule".to_owned());
        }
        Ok(())
    }
}

/// What the server must do to one upload, decided by the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Wait before anything else.
    pub delay: Option<Duration>,
    /// The response that replaces processing, if any.
    pub effect: Option<Effect>,
}

/// A response that replaces processing of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Answer with a status and optional `Retry-After` seconds.
    Status {
        status: u16,
        retry_after_s: Option<u64>,
    },
    /// Drop the connection.
    Reset,
    /// 400 with `log_license_exceeds=True`.
    LicenseExceeded,
}

/// The active rules, each with its remaining count and its own seeded random stream.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<ActiveRule>,
}

#[derive(Debug)]
struct ActiveRule {
    fault: Fault,
    remaining: Option<u32>,
    rng: ChaCha8Rng,
}

impl FaultBook {
    /// Replaces the rules; all are validated before any is installed.
    pub fn set(&mut self, faults: Vec<Fault>) -> Result<(), String> {
        faults.iter().try_for_each(Fault::validate)?;
        self.rules = faults
            .into_iter()
            .map(|fault| ActiveRule {
                remaining: fault.times,
                rng: ChaCha8Rng::seed_from_u64(fault.seed.unwrap_or(0)),
                fault,
            })
            .collect();
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Decides the fate of the next upload: the first rule with uses left that fires wins.
    pub fn next_upload(&mut self) -> Decision {
        for rule in &mut self.rules {
            if rule.remaining == Some(0) {
                continue;
            }
            if let Some(p) = rule.fault.probability
                && !rule.rng.random_bool(p)
            {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            let f = &rule.fault;
            let effect = if f.reset_connection {
                Some(Effect::Reset)
            } else if f.license_exceeded {
                Some(Effect::LicenseExceeded)
            } else {
                f.status.map(|status| Effect::Status {
                    status,
                    retry_after_s: f.retry_after_s,
                })
            };
            return Decision {
                delay: f.delay_ms.map(Duration::from_millis),
                effect,
            };
        }
        Decision::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_builders_and_the_json_vocabulary_are_the_same() {
        let cases = [
            (Fault::status(503).times(3), r#"{"status":503,"times":3}"#),
            (
                Fault::status(429)
                    .retry_after(Duration::from_secs(1))
                    .times(2),
                r#"{"status":429,"retry_after_s":1,"times":2}"#,
            ),
            (
                Fault::status(500).probability(0.3).seed(7),
                r#"{"status":500,"probability":0.3,"seed":7}"#,
            ),
            (
                Fault::delay(Duration::from_secs(3)).times(1),
                r#"{"delay_ms":3000,"times":1}"#,
            ),
            (
                Fault::reset_connection().times(1),
                r#"{"reset_connection":true,"times":1}"#,
            ),
            (
                Fault::license_exceeded().times(1),
                r#"{"license_exceeded":true,"times":1}"#,
            ),
        ];
        for (fault, json) in cases {
            assert_eq!(
                serde_json::to_string(&fault).ok().as_deref(),
                Some(json),
                "{fault:?}"
            );
            let parsed: Fault = serde_json::from_str(json).unwrap_or_default();
            assert_eq!(parsed, fault, "{json}");
        }
    }

    #[test]
    fn rules_that_mean_nothing_or_two_things_are_refused() {
        for bad in [
            Fault::default(),
            Fault::status(503).probability(1.5),
            Fault {
                reset_connection: true,
                status: Some(500),
                ..Fault::default()
            },
            Fault::status(42),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_counted_rule_fires_exactly_that_many_times() {
        let mut book = FaultBook::default();
        assert!(book.set(vec![Fault::status(503).times(2)]).is_ok());
        let fired = (0..5)
            .filter(|_| book.next_upload().effect.is_some())
            .count();
        assert_eq!(fired, 2);
    }
}
