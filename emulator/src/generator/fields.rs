//! The field catalogue of VPC Flow Logs as the generator knows it, and log formats built from it.
//!
//! The emulator must not depend on the forwarder, so this is its own list: each field's
//! `${name}`, the format version that introduced it, and a [`Field`] the line writer matches on.

use std::fmt;

use super::error::ConfigError;

/// Fields the generator can produce, in the order of the AWS documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Field {
    Version,
    AccountId,
    InterfaceId,
    Srcaddr,
    Dstaddr,
    Srcport,
    Dstport,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcaddr,
    PktDstaddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    RejectReason,
}

/// Every field with its name and the version that introduced it (the catalogue).
pub const CATALOGUE: &[(Field, &str, u8)] = &[
    (Field::Version, "version", 2),
    (Field::AccountId, "account-id", 2),
    (Field::InterfaceId, "interface-id", 2),
    (Field::Srcaddr, "srcaddr", 2),
    (Field::Dstaddr, "dstaddr", 2),
    (Field::Srcport, "srcport", 2),
    (Field::Dstport, "dstport", 2),
    (Field::Protocol, "protocol", 2),
    (Field::Packets, "packets", 2),
    (Field::Bytes, "bytes", 2),
    (Field::Start, "start", 2),
    (Field::End, "end", 2),
    (Field::Action, "action", 2),
    (Field::LogStatus, "log-status", 2),
    (Field::VpcId, "vpc-id", 3),
    (Field::SubnetId, "subnet-id", 3),
    (Field::InstanceId, "instance-id", 3),
    (Field::TcpFlags, "tcp-flags", 3),
    (Field::Type, "type", 3),
    (Field::PktSrcaddr, "pkt-srcaddr", 3),
    (Field::PktDstaddr, "pkt-dstaddr", 3),
    (Field::Region, "region", 4),
    (Field::AzId, "az-id", 4),
    (Field::SublocationType, "sublocation-type", 4),
    (Field::SublocationId, "sublocation-id", 4),
    (Field::PktSrcAwsService, "pkt-src-aws-service", 5),
    (Field::PktDstAwsService, "pkt-dst-aws-service", 5),
    (Field::FlowDirection, "flow-direction", 5),
    (Field::TrafficPath, "traffic-path", 5),
    (Field::EcsClusterArn, "ecs-cluster-arn", 7),
    (Field::EcsClusterName, "ecs-cluster-name", 7),
    (
        Field::EcsContainerInstanceArn,
        "ecs-container-instance-arn",
        7,
    ),
    (
        Field::EcsContainerInstanceId,
        "ecs-container-instance-id",
        7,
    ),
    (Field::EcsContainerId, "ecs-container-id", 7),
    (Field::EcsSecondContainerId, "ecs-second-container-id", 7),
    (Field::EcsServiceName, "ecs-service-name", 7),
    (Field::EcsTaskDefinitionArn, "ecs-task-definition-arn", 7),
    (Field::EcsTaskArn, "ecs-task-arn", 7),
    (Field::EcsTaskId, "ecs-task-id", 7),
    (Field::RejectReason, "reject-reason", 8),
];

impl Field {
    /// The hyphenated name used in `${…}` and in the header line.
    #[must_use]
    pub fn name(self) -> &'static str {
        CATALOGUE[self as usize].1
    }

    /// The format version that introduced the field.
    #[must_use]
    pub fn version(self) -> u8 {
        CATALOGUE[self as usize].2
    }

    /// Looks a field up by its hyphenated name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Field> {
        CATALOGUE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(f, _, _)| *f)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The AWS default format string (version 2), which cannot be changed.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// A validated log format: which fields each line carries, in order, and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    fields: Vec<Field>,
    version: u8,
    default: bool,
}

impl LogFormat {
    /// The default format: version 2, fourteen fields.
    #[must_use]
    pub fn default_format() -> Self {
        let fields = CATALOGUE[..14].iter().map(|(f, _, _)| *f).collect();
        Self {
            fields,
            version: 2,
            default: true,
        }
    }

    /// Parses `default` or a custom `${field} ${field}` string the way CreateFlowLogs validates it.
    ///
    /// # Errors
    /// [`ConfigError::Format`] when the string does not match AWS's pattern
    /// `^((\$\{[a-z-]+\} )*\$\{[a-z-]+\})$` or names a field the generator does not know.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if text == "default" || text == DEFAULT_FORMAT {
            return Ok(Self::default_format());
        }
        let bad = |reason: String| ConfigError::Format {
            format: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(bad(
                "it is empty; give `default` or at least one `${field}`".into(),
            ));
        }
        let mut fields = Vec::new();
        for token in text.split(' ') {
            let name = token
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
                .ok_or_else(|| {
                    bad(format!(
                        "`{token}` is not a `${{field}}` token; fields are lowercase `${{name}}` separated by single spaces"
                    ))
                })?;
            let field = Field::from_name(name).ok_or_else(|| {
                bad(format!(
                    "unknown field `{name}`; known fields: {}",
                    known_names()
                ))
            })?;
            if fields.contains(&field) {
                return Err(bad(format!("field `{name}` appears twice")));
            }
            fields.push(field);
        }
        let version = fields.iter().map(|f| f.version()).max().unwrap_or(2);
        Ok(Self {
            fields,
            version,
            default: false,
        })
    }

    /// The fields of each line, in order.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The value of `${version}`: 2 for the default format, else the highest field version.
    #[must_use]
    pub fn version(&self) -> u8 {
        self.version
    }

    /// True for the AWS default format.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.default
    }

    /// The header line (without newline): field names separated by single spaces.
    #[must_use]
    pub fn header(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The format string as CreateFlowLogs takes it (`${a} ${b}`), or `default`.
    #[must_use]
    pub fn to_format_string(&self) -> String {
        if self.default {
            return "default".to_owned();
        }
        self.fields
            .iter()
            .map(|f| format!("${{{}}}", f.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn known_names() -> String {
    CATALOGUE
        .iter()
        .map(|(_, n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_order_matches_the_enum() {
        for (i, (field, _, _)) in CATALOGUE.iter().enumerate() {
            assert_eq!(*field as usize, i, "{field:?}");
        }
    }

    #[test]
    fn versions_follow_the_highest_field() {
        let table = [
            ("default", 2),
            ("${srcaddr}", 2),
            ("${srcaddr} ${tcp-flags}", 3),
            ("${region} ${srcaddr}", 4),
            ("${flow-direction}", 5),
            ("${ecs-task-id} ${version}", 7),
            ("${reject-reason}", 8),
        ];
        for (text, version) in table {
            assert_eq!(
                LogFormat::parse(text).map(|f| f.version()).ok(),
                Some(version),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_formats_are_rejected_with_the_reason() {
        let table = [
            ("", "empty"),
            ("${srcaddr}  ${dstaddr}", "not a"),
            ("${srcaddr} ", "not a"),
            ("srcaddr", "not a"),
            ("${SRCADDR}", "not a"),
            ("${no-such-field}", "unknown field `no-such-field`"),
            ("${srcaddr} ${srcaddr}", "twice"),
        ];
        for (text, reason) in table {
            let err = LogFormat::parse(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(reason), "{text:?} gave {err:?}");
        }
    }
}
