//! Transit gateways over the simulated estate, their records, and the line writer of
//! transit-gateway flow logs (version 6 fields, no `action`).
//!
//! The model: one transit gateway per region (`tgw-` + 17 hex), owned by the first account and
//! shared with the others; every VPC of that region, whatever its account, has one attachment
//! (`tgw-attach-` + 17 hex) with a subnet and an ENI in each of its three AZs. The owner's flow
//! log is created on the transit gateway (`resource-type` `TransitGateway`, every attachment's
//! records); another account's flow log is created on its own attachments
//! (`TransitGatewayAttachment`, only theirs), so a record of such an attachment is in both.
//! `account-id` is the transit gateway's owner on every record.
//!
//! A flow crossing the gateway is logged twice per direction and interval: `ingress` on the
//! attachment it enters by, `egress` on the one it leaves by, each naming the other as
//! `tgw-pair-attachment-id`. Packets the gateway drops are counted in `packets-lost-*` of the
//! ingress record; a flow dropped whole (no route, blackhole) has no egress record and no pair.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::fields::{Field, LogFormat};
use super::record::{Addr, Status, push_addr, push_u64};
use super::topology::{Topology, hex_id};

/// One transit gateway.
#[derive(Debug, Clone)]
pub(crate) struct Gateway {
    pub id: String,
    /// The flow log (source) of its owner in its region.
    pub owner_source: usize,
}

/// One VPC attachment of a transit gateway.
#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub id: String,
    pub gateway: usize,
    /// The attached VPC (same index as the attachment).
    pub vpc: usize,
    /// The attachment's subnet, ENI and AZ id in each of the VPC's three AZs.
    pub subnets: [String; 3],
    pub enis: [String; 3],
    pub az_ids: [String; 3],
    /// The flow logs that capture it: (source, captured as an attachment rather than through
    /// the whole gateway).
    pub captured_by: Vec<(usize, bool)>,
    /// Which of the service's writers handles its records.
    pub shard: u32,
}

/// The gateways and attachments of the estate.
#[derive(Debug, Clone)]
pub(crate) struct Transit {
    pub gateways: Vec<Gateway>,
    /// One per VPC, in VPC order.
    pub attachments: Vec<Attachment>,
}

impl Transit {
    /// Builds a gateway per region and an attachment per VPC; all randomness from `rng`.
    pub(crate) fn build(rng: &mut ChaCha8Rng, topology: &Topology, shards: u32) -> Self {
        let mut gateways: Vec<Gateway> = Vec::new();
        let mut gateway_of_source = Vec::with_capacity(topology.sources.len());
        for (s, source) in topology.sources.iter().enumerate() {
            let existing = gateways
                .iter()
                .position(|g| topology.sources[g.owner_source].region == source.region);
            let g = existing.unwrap_or_else(|| {
                gateways.push(Gateway {
                    id: hex_id(rng, "tgw-", 17),
                    owner_source: s,
                });
                gateways.len() - 1
            });
            gateway_of_source.push(g);
        }
        let attachments = topology
            .vpcs
            .iter()
            .enumerate()
            .map(|(v, vpc)| {
                let gateway = gateway_of_source[vpc.source];
                let owner = gateways[gateway].owner_source;
                let az = super::topology::az_prefix(&topology.sources[vpc.source].region);
                let mut captured_by = vec![(owner, false)];
                if vpc.source != owner {
                    captured_by.push((vpc.source, true));
                }
                Attachment {
                    id: hex_id(rng, "tgw-attach-", 17),
                    gateway,
                    vpc: v,
                    subnets: std::array::from_fn(|_| hex_id(rng, "subnet-", 17)),
                    enis: std::array::from_fn(|_| hex_id(rng, "eni-", 17)),
                    az_ids: std::array::from_fn(|i| format!("{az}-az{}", i + 1)),
                    captured_by,
                    shard: rng.random_range(0..shards.max(1)),
                }
            })
            .collect();
        Self {
            gateways,
            attachments,
        }
    }
}

/// Which `packets-lost-*` counter a drop goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    NoRoute = 0,
    Blackhole = 1,
    MtuExceeded = 2,
    TtlExpired = 3,
}

/// One transit-gateway record: one direction of one flow on one attachment in one interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TgwRecord {
    pub status: Status,
    /// The attachment the packets entered by (or, for NODATA/SKIPDATA, the one logged).
    pub src_attachment: u32,
    /// The attachment they leave by; `None` when the gateway dropped them all.
    pub dst_attachment: Option<u32>,
    /// Logged on the entering attachment (`ingress`) or the leaving one (`egress`).
    pub ingress: bool,
    /// The AZ (0 to 2) the packets entered in; the gateway keeps them in it.
    pub az: u8,
    pub src: Addr,
    pub dst: Addr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: i64,
    pub end: i64,
    pub tcp_flags: u8,
    /// Dropped packets by [`Loss`].
    pub lost: [u64; 4],
}

impl TgwRecord {
    /// A NODATA or SKIPDATA record of an attachment over `[start, end]`.
    pub(crate) fn status_only(attachment: u32, status: Status, start: i64, end: i64) -> Self {
        Self {
            status,
            src_attachment: attachment,
            dst_attachment: None,
            ingress: true,
            az: 0,
            src: Addr::V4(0),
            dst: Addr::V4(0),
            srcport: 0,
            dstport: 0,
            protocol: 0,
            packets: 0,
            bytes: 0,
            start,
            end,
            tcp_flags: 0,
            lost: [0; 4],
        }
    }

    /// The attachment whose flow log entry this is.
    pub(crate) fn attachment(&self) -> u32 {
        match (self.ingress, self.dst_attachment) {
            (false, Some(dst)) => dst,
            _ => self.src_attachment,
        }
    }

    /// The other attachment of the flow, if it got that far.
    fn pair(&self) -> Option<u32> {
        if self.ingress {
            self.dst_attachment
        } else {
            Some(self.src_attachment)
        }
    }

    pub(crate) fn status_name(&self) -> &'static str {
        match self.status {
            Status::Ok => "OK",
            Status::NoData => "NODATA",
            Status::SkipData => "SKIPDATA",
        }
    }
}

/// Renders transit-gateway records of one format; holds nothing but borrowed context.
pub(crate) struct TgwLineWriter<'a> {
    pub format: &'a LogFormat,
    pub topology: &'a Topology,
    pub transit: &'a Transit,
}

impl TgwLineWriter<'_> {
    /// Appends `r` as one line (with `\n`) of the flow log that captures it as an attachment
    /// (`TransitGatewayAttachment`) or through the gateway (`TransitGateway`).
    pub(crate) fn write(&self, buf: &mut Vec<u8>, r: &TgwRecord, as_attachment: bool) {
        let t = self.transit;
        let here = &t.attachments[r.attachment() as usize];
        let gateway = &t.gateways[here.gateway];
        let owner = &self.topology.sources[gateway.owner_source];
        let src = &t.attachments[r.src_attachment as usize];
        let dst = r.dst_attachment.map(|d| &t.attachments[d as usize]);
        let ok = r.status == Status::Ok;
        let az = usize::from(r.az);
        let vpc_account = |a: &Attachment| {
            let vpc = &self.topology.vpcs[a.vpc];
            self.topology.sources[vpc.source].account_id.as_bytes()
        };
        let vpc_id = |a: &Attachment| self.topology.vpcs[a.vpc].id.as_bytes();
        for (i, field) in self.format.fields().iter().enumerate() {
            if i > 0 {
                buf.push(b' ');
            }
            let text: Option<&[u8]> = match field {
                Field::ResourceType => Some(if as_attachment {
                    b"TransitGatewayAttachment"
                } else {
                    b"TransitGateway"
                }),
                Field::AccountId => Some(owner.account_id.as_bytes()),
                Field::TgwId => Some(gateway.id.as_bytes()),
                Field::TgwAttachmentId => Some(here.id.as_bytes()),
                Field::Region => Some(owner.region.as_bytes()),
                Field::LogStatus => Some(r.status_name().as_bytes()),
                Field::TgwSrcVpcAccountId if ok => Some(vpc_account(src)),
                Field::TgwSrcVpcId if ok => Some(vpc_id(src)),
                Field::TgwSrcSubnetId if ok => Some(src.subnets[az].as_bytes()),
                Field::TgwSrcEni if ok => Some(src.enis[az].as_bytes()),
                Field::TgwSrcAzId if ok => Some(src.az_ids[az].as_bytes()),
                Field::TgwDstVpcAccountId if ok => dst.map(vpc_account),
                Field::TgwDstVpcId if ok => dst.map(vpc_id),
                Field::TgwDstSubnetId if ok => dst.map(|d| d.subnets[az].as_bytes()),
                Field::TgwDstEni if ok => dst.map(|d| d.enis[az].as_bytes()),
                Field::TgwDstAzId if ok => dst.map(|d| d.az_ids[az].as_bytes()),
                Field::TgwPairAttachmentId if ok => {
                    r.pair().map(|p| t.attachments[p as usize].id.as_bytes())
                }
                Field::Type if ok => Some(if matches!(r.src, Addr::V6(_)) {
                    b"IPv6"
                } else {
                    b"IPv4"
                }),
                Field::FlowDirection if ok => Some(if r.ingress { b"ingress" } else { b"egress" }),
                Field::PktSrcAwsService | Field::PktDstAwsService if ok => Some(b"-"),
                _ => None,
            };
            if let Some(text) = text {
                buf.extend_from_slice(text);
                continue;
            }
            match field {
                Field::Version => push_u64(buf, u64::from(self.format.version())),
                Field::Start => push_u64(buf, r.start.unsigned_abs()),
                Field::End => push_u64(buf, r.end.unsigned_abs()),
                Field::Srcaddr if ok => push_addr(buf, r.src),
                Field::Dstaddr if ok => push_addr(buf, r.dst),
                Field::Srcport if ok => push_u64(buf, u64::from(r.srcport)),
                Field::Dstport if ok => push_u64(buf, u64::from(r.dstport)),
                Field::Protocol if ok => push_u64(buf, u64::from(r.protocol)),
                Field::Packets if ok => push_u64(buf, r.packets),
                Field::Bytes if ok => push_u64(buf, r.bytes),
                Field::TcpFlags if ok => push_u64(buf, u64::from(r.tcp_flags)),
                Field::PacketsLostNoRoute if ok => push_u64(buf, r.lost[Loss::NoRoute as usize]),
                Field::PacketsLostBlackhole if ok => {
                    push_u64(buf, r.lost[Loss::Blackhole as usize]);
                }
                Field::PacketsLostMtuExceeded if ok => {
                    push_u64(buf, r.lost[Loss::MtuExceeded as usize]);
                }
                Field::PacketsLostTtlExpired if ok => {
                    push_u64(buf, r.lost[Loss::TtlExpired as usize]);
                }
                // Fields of a flow that never left the gateway, and traffic fields of
                // NODATA/SKIPDATA records, do not apply.
                _ => buf.push(b'-'),
            }
        }
        buf.push(b'\n');
    }
}
