//! Which notification configuration a created object matches: event-name patterns and the
//! prefix/suffix key filters of S3's `NotificationConfiguration`.

use serde::{Deserialize, Serialize};

/// Where S3 sends a notification: the three destination kinds of a bucket configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Destination {
    /// A `LambdaFunctionConfiguration` (S3 invokes the function asynchronously).
    Lambda {
        /// `LambdaFunctionArn` as configured.
        function_arn: String,
    },
    /// A `QueueConfiguration` (SQS).
    Queue {
        /// `QueueArn` as configured.
        queue_arn: String,
    },
    /// A `TopicConfiguration` (SNS).
    Topic {
        /// `TopicArn` as configured.
        topic_arn: String,
    },
}

impl Destination {
    /// The ARN of the destination, whatever its kind.
    #[must_use]
    pub fn arn(&self) -> &str {
        match self {
            Self::Lambda { function_arn } => function_arn,
            Self::Queue { queue_arn } => queue_arn,
            Self::Topic { topic_arn } => topic_arn,
        }
    }
}

/// One configuration entry compiled for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The entry's `Id` (generated when the client sent none), copied into `configurationId`.
    pub configuration_id: String,
    /// Where matching events go.
    pub destination: Destination,
    /// Event patterns such as `s3:ObjectCreated:*` or `s3:ObjectCreated:Put`.
    pub events: Vec<String>,
    /// `prefix` filter rule, if any.
    pub prefix: Option<String>,
    /// `suffix` filter rule, if any.
    pub suffix: Option<String>,
}

impl Rule {
    /// Whether an event (`ObjectCreated:Put`, without the `s3:` prefix) on `key` matches this entry.
    #[must_use]
    pub fn matches(&self, event_name: &str, key: &str) -> bool {
        let name_matches = self
            .events
            .iter()
            .any(|pattern| event_pattern_matches(pattern, event_name));
        name_matches
            && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }
}

/// `s3:ObjectCreated:*` matches every `ObjectCreated:…`; other patterns match exactly.
#[must_use]
pub fn event_pattern_matches(pattern: &str, event_name: &str) -> bool {
    let Some(pattern) = pattern.strip_prefix("s3:") else {
        return false;
    };
    match pattern.strip_suffix('*') {
        Some(stem) => event_name.starts_with(stem),
        None => pattern == event_name,
    }
}

/// Whether a configured event pattern names an event S3 knows (used to reject typos with 400).
#[must_use]
pub fn is_known_event_pattern(pattern: &str) -> bool {
    const KNOWN: &[&str] = &[
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
        "s3:ReducedRedundancyLostObject",
        "s3:Replication:*",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
    ];
    KNOWN.contains(&pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Rule {
        Rule {
            configuration_id: "id".into(),
            destination: Destination::Lambda {
                function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            },
            events: events.iter().map(|s| (*s).to_owned()).collect(),
            prefix: prefix.map(str::to_owned),
            suffix: suffix.map(str::to_owned),
        }
    }

    #[test]
    fn rules_match_on_event_pattern_prefix_and_suffix() {
        let table = [
            (
                rule(&["s3:ObjectCreated:*"], None, None),
                "ObjectCreated:Put",
                "k",
                true,
            ),
            (
                rule(&["s3:ObjectCreated:*"], None, None),
                "ObjectCreated:CompleteMultipartUpload",
                "k",
                true,
            ),
            (
                rule(&["s3:ObjectCreated:Put"], None, None),
                "ObjectCreated:Copy",
                "k",
                false,
            ),
            (
                rule(&["s3:ObjectCreated:Copy"], None, None),
                "ObjectCreated:Copy",
                "k",
                true,
            ),
            (
                rule(&["s3:ObjectRemoved:*"], None, None),
                "ObjectCreated:Put",
                "k",
                false,
            ),
            (
                rule(&["s3:ObjectCreated:*"], Some("AWSLogs/"), Some(".log.gz")),
                "ObjectCreated:Put",
                "AWSLogs/x.log.gz",
                true,
            ),
            (
                rule(&["s3:ObjectCreated:*"], Some("AWSLogs/"), Some(".log.gz")),
                "ObjectCreated:Put",
                "other/x.log.gz",
                false,
            ),
            (
                rule(&["s3:ObjectCreated:*"], Some("AWSLogs/"), Some(".log.gz")),
                "ObjectCreated:Put",
                "AWSLogs/x.txt",
                false,
            ),
        ];
        for (rule, event, key, want) in table {
            assert_eq!(rule.matches(event, key), want, "{rule:?} {event} {key}");
        }
    }
}
