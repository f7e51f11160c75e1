//! One flow-log record in memory (plain values, no allocation) and the writer that renders it as
//! a line of a given format into a reused buffer.

use std::io::Write as _;
use std::net::Ipv6Addr;

use super::fields::{Field, LogFormat};
use super::topology::Topology;

/// An IPv4 or IPv6 address, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Addr {
    V4(u32),
    V6(u128),
}

/// The `log-status` of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    NoData,
    SkipData,
}

/// AWS services named by `pkt-src-aws-service` / `pkt-dst-aws-service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    None,
    S3,
    Dynamodb,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::None => "-",
            Service::S3 => "S3",
            Service::Dynamodb => "DYNAMODB",
        }
    }
}

/// One record as the service aggregates it: one direction of one flow on one ENI in one interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    pub eni: u32,
    pub status: Status,
    pub accept: bool,
    pub src: Addr,
    pub dst: Addr,
    pub pkt_src: Addr,
    pub pkt_dst: Addr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: i64,
    pub end: i64,
    pub tcp_flags: u8,
    pub ingress: bool,
    /// 0 when not applicable (ingress).
    pub traffic_path: u8,
    pub pkt_src_service: Service,
    pub pkt_dst_service: Service,
    pub reject_bpa: bool,
}

impl Record {
    /// A NODATA or SKIPDATA record for an ENI over `[start, end]`.
    pub(crate) fn status_only(eni: u32, status: Status, start: i64, end: i64) -> Self {
        Self {
            eni,
            status,
            accept: false,
            src: Addr::V4(0),
            dst: Addr::V4(0),
            pkt_src: Addr::V4(0),
            pkt_dst: Addr::V4(0),
            srcport: 0,
            dstport: 0,
            protocol: 0,
            packets: 0,
            bytes: 0,
            start,
            end,
            tcp_flags: 0,
            ingress: false,
            traffic_path: 0,
            pkt_src_service: Service::None,
            pkt_dst_service: Service::None,
            reject_bpa: false,
        }
    }

    /// The action token: `ACCEPT`, `REJECT`, or `-` for NODATA/SKIPDATA.
    pub(crate) fn action_name(&self) -> &'static str {
        match (self.status, self.accept) {
            (Status::Ok, true) => "ACCEPT",
            (Status::Ok, false) => "REJECT",
            _ => "-",
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

/// Appends the decimal form of `v` without allocating.
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub(crate) fn push_addr(buf: &mut Vec<u8>, addr: Addr) {
    match addr {
        Addr::V4(a) => {
            let o = a.to_be_bytes();
            for (i, octet) in o.iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                push_u64(buf, u64::from(*octet));
            }
        }
        // Rare (IPv6 share is small): the standard library's RFC 5952 form.
        Addr::V6(a) => {
            let _ = write!(buf, "{}", Ipv6Addr::from(a));
        }
    }
}

/// Renders records of one format; holds nothing but borrowed context.
pub(crate) struct LineWriter<'a> {
    pub format: &'a LogFormat,
    pub topology: &'a Topology,
}

impl LineWriter<'_> {
    /// Appends `record` as one line (with `\n`) to `buf`.
    pub(crate) fn write(&self, buf: &mut Vec<u8>, r: &Record) {
        let eni = &self.topology.enis[r.eni as usize];
        let source = &self.topology.sources[eni.source];
        let ok = r.status == Status::Ok;
        for (i, field) in self.format.fields().iter().enumerate() {
            if i > 0 {
                buf.push(b' ');
            }
            let dash = |buf: &mut Vec<u8>| buf.push(b'-');
            let ecs = |buf: &mut Vec<u8>, pick: fn(&super::topology::EcsFields) -> &str| match (
                &eni.ecs, ok,
            ) {
                (Some(e), true) => buf.extend_from_slice(pick(e).as_bytes()),
                _ => buf.push(b'-'),
            };
            match field {
                Field::Version => push_u64(buf, u64::from(self.format.version())),
                Field::AccountId => buf.extend_from_slice(source.account_id.as_bytes()),
                Field::InterfaceId => buf.extend_from_slice(eni.id.as_bytes()),
                Field::Srcaddr if ok => push_addr(buf, r.src),
                Field::Dstaddr if ok => push_addr(buf, r.dst),
                Field::PktSrcaddr if ok => push_addr(buf, r.pkt_src),
                Field::PktDstaddr if ok => push_addr(buf, r.pkt_dst),
                Field::Srcport if ok => push_u64(buf, u64::from(r.srcport)),
                Field::Dstport if ok => push_u64(buf, u64::from(r.dstport)),
                Field::Protocol if ok => push_u64(buf, u64::from(r.protocol)),
                Field::Packets if ok => push_u64(buf, r.packets),
                Field::Bytes if ok => push_u64(buf, r.bytes),
                Field::TcpFlags if ok => push_u64(buf, u64::from(r.tcp_flags)),
                Field::Type if ok => buf.extend_from_slice(if matches!(r.src, Addr::V6(_)) {
                    b"IPv6"
                } else {
                    b"IPv4"
                }),
                Field::Start => push_u64(buf, r.start.unsigned_abs()),
                Field::End => push_u64(buf, r.end.unsigned_abs()),
                Field::Action => buf.extend_from_slice(r.action_name().as_bytes()),
                Field::LogStatus => buf.extend_from_slice(r.status_name().as_bytes()),
                Field::VpcId => buf.extend_from_slice(self.topology.vpcs[eni.vpc].id.as_bytes()),
                Field::SubnetId => buf.extend_from_slice(eni.subnet_id.as_bytes()),
                Field::InstanceId => buf.extend_from_slice(eni.instance_id.as_bytes()),
                Field::Region => buf.extend_from_slice(source.region.as_bytes()),
                Field::AzId => buf.extend_from_slice(eni.az_id.as_bytes()),
                Field::PktSrcAwsService if ok => {
                    buf.extend_from_slice(r.pkt_src_service.name().as_bytes())
                }
                Field::PktDstAwsService if ok => {
                    buf.extend_from_slice(r.pkt_dst_service.name().as_bytes())
                }
                Field::FlowDirection if ok => {
                    buf.extend_from_slice(if r.ingress { b"ingress" } else { b"egress" });
                }
                Field::TrafficPath if ok && r.traffic_path > 0 => {
                    push_u64(buf, u64::from(r.traffic_path))
                }
                Field::EcsClusterArn => ecs(buf, |e| &e.cluster_arn),
                Field::EcsClusterName => ecs(buf, |e| &e.cluster_name),
                Field::EcsContainerId => ecs(buf, |e| &e.container_id),
                Field::EcsSecondContainerId => ecs(buf, |e| &e.second_container_id),
                Field::EcsServiceName => ecs(buf, |e| &e.service_name),
                Field::EcsTaskDefinitionArn => ecs(buf, |e| &e.task_definition_arn),
                Field::EcsTaskArn => ecs(buf, |e| &e.task_arn),
                Field::EcsTaskId => ecs(buf, |e| &e.task_id),
                Field::RejectReason if ok && r.reject_bpa => buf.extend_from_slice(b"BPA"),
                // Fargate tasks have no container instance; sublocations are not simulated; and
                // traffic fields of NODATA/SKIPDATA records do not apply.
                _ => dash(buf),
            }
        }
        buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_addresses_render_like_display() {
        for v in [0u64, 7, 10, 99, 12345, u64::from(u32::MAX) + 1, u64::MAX] {
            let mut buf = Vec::new();
            push_u64(&mut buf, v);
            assert_eq!(String::from_utf8_lossy(&buf), v.to_string());
        }
        let mut buf = Vec::new();
        push_addr(
            &mut buf,
            Addr::V4(u32::from(std::net::Ipv4Addr::new(10, 0, 200, 5))),
        );
        assert_eq!(buf, b"10.0.200.5");
    }
}
