//! The field catalogue of VPC and transit-gateway flow logs as the generator knows it, and log
//! formats built from it.
//!
//! The emulator must not depend on the forwarder, so this is its own list: each field's
//! `${name}`, the format version that introduced it, and a [`Field`] the line writers match on.
//! [`CATALOGUE`] lists the fields of VPC flow logs, [`TRANSIT_GATEWAY_CATALOGUE`] the fields only
//! transit-gateway flow logs have; [`Field::is_available_in`] says which a resource type takes.

use std::fmt;
use std::str::FromStr;

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
    ResourceType,
    TgwId,
    TgwAttachmentId,
    TgwSrcVpcAccountId,
    TgwDstVpcAccountId,
    TgwSrcVpcId,
    TgwDstVpcId,
    TgwSrcSubnetId,
    TgwDstSubnetId,
    TgwSrcEni,
    TgwDstEni,
    TgwSrcAzId,
    TgwDstAzId,
    TgwPairAttachmentId,
    PacketsLostNoRoute,
    PacketsLostBlackhole,
    PacketsLostMtuExceeded,
    PacketsLostTtlExpired,
}

/// Every field of VPC flow logs with its name and the version that introduced it, in the order
/// of the AWS documentation (the catalogue).
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

/// The fields only transit-gateway flow logs have (all version 6), in the order of their default
/// format. They continue [`Field`]'s numbering after [`CATALOGUE`].
pub const TRANSIT_GATEWAY_CATALOGUE: &[(Field, &str, u8)] = &[
    (Field::ResourceType, "resource-type", 6),
    (Field::TgwId, "tgw-id", 6),
    (Field::TgwAttachmentId, "tgw-attachment-id", 6),
    (Field::TgwSrcVpcAccountId, "tgw-src-vpc-account-id", 6),
    (Field::TgwDstVpcAccountId, "tgw-dst-vpc-account-id", 6),
    (Field::TgwSrcVpcId, "tgw-src-vpc-id", 6),
    (Field::TgwDstVpcId, "tgw-dst-vpc-id", 6),
    (Field::TgwSrcSubnetId, "tgw-src-subnet-id", 6),
    (Field::TgwDstSubnetId, "tgw-dst-subnet-id", 6),
    (Field::TgwSrcEni, "tgw-src-eni", 6),
    (Field::TgwDstEni, "tgw-dst-eni", 6),
    (Field::TgwSrcAzId, "tgw-src-az-id", 6),
    (Field::TgwDstAzId, "tgw-dst-az-id", 6),
    (Field::TgwPairAttachmentId, "tgw-pair-attachment-id", 6),
    (Field::PacketsLostNoRoute, "packets-lost-no-route", 6),
    (Field::PacketsLostBlackhole, "packets-lost-blackhole", 6),
    (
        Field::PacketsLostMtuExceeded,
        "packets-lost-mtu-exceeded",
        6,
    ),
    (Field::PacketsLostTtlExpired, "packets-lost-ttl-expired", 6),
];

/// The VPC fields that transit-gateway flow logs share (they have no `action`, no ENI, instance
/// or subnet of their own).
const SHARED_WITH_TRANSIT_GATEWAY: &[Field] = &[
    Field::Version,
    Field::AccountId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::LogStatus,
    Field::Type,
    Field::TcpFlags,
    Field::Region,
    Field::FlowDirection,
    Field::PktSrcAwsService,
    Field::PktDstAwsService,
];

/// What a flow log is created on (`CreateFlowLogs`' resource type, as the generator's option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResourceType {
    /// VPCs (and so their ENIs): the VPC flow-log fields, versions 2 to 8.
    #[default]
    Vpc,
    /// A transit gateway or its attachments: the version 6 transit-gateway fields.
    TransitGateway,
}

impl ResourceType {
    /// The option value: `vpc` or `transit-gateway`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vpc => "vpc",
            Self::TransitGateway => "transit-gateway",
        }
    }
}

impl FromStr for ResourceType {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "vpc" => Ok(Self::Vpc),
            "transit-gateway" | "transitgateway" | "tgw" => Ok(Self::TransitGateway),
            _ => Err(ConfigError::Range {
                name: "resource-type",
                value: s.to_owned(),
                reason: "expected vpc or transit-gateway".into(),
            }),
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Field {
    fn entry(self) -> &'static (Field, &'static str, u8) {
        let i = self as usize;
        CATALOGUE
            .get(i)
            .unwrap_or_else(|| &TRANSIT_GATEWAY_CATALOGUE[i - CATALOGUE.len()])
    }

    /// The hyphenated name used in `${…}` and in the header line.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    /// The format version that introduced the field.
    #[must_use]
    pub fn version(self) -> u8 {
        self.entry().2
    }

    /// Looks a field up by its hyphenated name (VPC and transit-gateway fields).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Field> {
        CATALOGUE
            .iter()
            .chain(TRANSIT_GATEWAY_CATALOGUE)
            .find(|(_, n, _)| *n == name)
            .map(|(f, _, _)| *f)
    }

    /// Whether flow logs of `resource` can carry this field (CreateFlowLogs refuses the others).
    #[must_use]
    pub fn is_available_in(self, resource: ResourceType) -> bool {
        let transit_only = self as usize >= CATALOGUE.len();
        match resource {
            ResourceType::Vpc => !transit_only,
            ResourceType::TransitGateway => {
                transit_only || SHARED_WITH_TRANSIT_GATEWAY.contains(&self)
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The AWS default format string of VPC flow logs (version 2), which cannot be changed.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// The default format of transit-gateway flow logs (version 6: every field, in AWS's order).
pub const TRANSIT_GATEWAY_DEFAULT_FORMAT: &str = "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}";

/// A validated log format: which fields each line carries, in order, and its version.
///
/// `default` stands for the default format of the flow log's resource type: [`LogFormat::parse`]
/// gives the VPC one, and [`LogFormat::for_resource`] turns it into the transit-gateway one.
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

    /// The transit-gateway default format: version 6, thirty-six fields.
    #[must_use]
    pub fn transit_gateway_default() -> Self {
        use Field::*;
        let fields = vec![
            Version,
            ResourceType,
            AccountId,
            TgwId,
            TgwAttachmentId,
            TgwSrcVpcAccountId,
            TgwDstVpcAccountId,
            TgwSrcVpcId,
            TgwDstVpcId,
            TgwSrcSubnetId,
            TgwDstSubnetId,
            TgwSrcEni,
            TgwDstEni,
            TgwSrcAzId,
            TgwDstAzId,
            TgwPairAttachmentId,
            Srcaddr,
            Dstaddr,
            Srcport,
            Dstport,
            Protocol,
            Packets,
            Bytes,
            Start,
            End,
            LogStatus,
            Type,
            PacketsLostNoRoute,
            PacketsLostBlackhole,
            PacketsLostMtuExceeded,
            PacketsLostTtlExpired,
            TcpFlags,
            Region,
            FlowDirection,
            PktSrcAwsService,
            PktDstAwsService,
        ];
        Self {
            fields,
            version: 6,
            default: true,
        }
    }

    /// This format as a flow log on `resource` has it: `default` becomes that resource's default
    /// format; a custom format must name only fields the resource type has.
    ///
    /// # Errors
    /// [`ConfigError::Format`] naming the first field the resource type does not have.
    pub fn for_resource(&self, resource: ResourceType) -> Result<Self, ConfigError> {
        if self.default {
            return Ok(match resource {
                ResourceType::Vpc => Self::default_format(),
                ResourceType::TransitGateway => Self::transit_gateway_default(),
            });
        }
        if let Some(field) = self.fields.iter().find(|f| !f.is_available_in(resource)) {
            let available: Vec<&str> = CATALOGUE
                .iter()
                .chain(TRANSIT_GATEWAY_CATALOGUE)
                .filter(|(f, _, _)| f.is_available_in(resource))
                .map(|(_, n, _)| *n)
                .collect();
            return Err(ConfigError::Format {
                format: self.to_format_string(),
                reason: format!(
                    "field `{field}` is not available in {resource} flow logs; their fields are: {}",
                    available.join(", ")
                ),
            });
        }
        Ok(self.clone())
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
        Self::parse_fields(text)
    }

    fn parse_fields(text: &str) -> Result<Self, ConfigError> {
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
        .chain(TRANSIT_GATEWAY_CATALOGUE)
        .map(|(_, n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_order_matches_the_enum() {
        for (i, (field, name, _)) in CATALOGUE
            .iter()
            .chain(TRANSIT_GATEWAY_CATALOGUE)
            .enumerate()
        {
            assert_eq!(*field as usize, i, "{field:?}");
            assert_eq!(Field::from_name(name), Some(*field), "{name}");
        }
    }

    #[test]
    fn the_transit_gateway_default_format_has_aws_fields_and_version_6() {
        let tgw = LogFormat::transit_gateway_default();
        assert_eq!(tgw.fields().len(), 36);
        assert_eq!(tgw.version(), 6);
        assert!(tgw.is_default());
        assert_eq!(tgw.to_format_string(), "default");
        assert!(!tgw.fields().contains(&Field::Action));
        let spelled = LogFormat::parse(TRANSIT_GATEWAY_DEFAULT_FORMAT).map(|f| f.fields().to_vec());
        assert_eq!(spelled.ok().as_deref(), Some(tgw.fields()));
        assert_eq!(
            LogFormat::parse("default")
                .and_then(|f| f.for_resource(ResourceType::TransitGateway))
                .ok(),
            Some(tgw)
        );
        assert_eq!(
            LogFormat::parse(TRANSIT_GATEWAY_DEFAULT_FORMAT)
                .map(|f| f.version())
                .ok(),
            Some(6)
        );
    }

    #[test]
    fn formats_name_only_fields_of_their_resource_type() {
        let table = [
            ("${srcaddr} ${tgw-id}", ResourceType::TransitGateway, None),
            ("${srcaddr} ${tgw-id}", ResourceType::Vpc, Some("`tgw-id`")),
            ("${action}", ResourceType::TransitGateway, Some("`action`")),
            (
                "${interface-id}",
                ResourceType::TransitGateway,
                Some("`interface-id`"),
            ),
            (
                "${packets-lost-blackhole}",
                ResourceType::TransitGateway,
                None,
            ),
            ("default", ResourceType::Vpc, None),
        ];
        for (text, resource, error) in table {
            let got = LogFormat::parse(text).and_then(|f| f.for_resource(resource));
            match (error, got) {
                (None, Ok(_)) => {}
                (Some(name), Err(e)) => assert!(e.to_string().contains(name), "{text}: {e}"),
                (_, got) => panic!("{text} for {resource}: unexpected {got:?}"),
            }
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
