//! One connection's life as flow-log records: per aggregation interval, one record per direction
//! on every monitored ENI it crosses (client, NAT gateway, server), with tcp-flags OR-ed over the
//! interval, packets and bytes within real frame sizes, and NAT packet addresses.

use rand_chacha::ChaCha8Rng;

use super::random::between;
use super::record::{Addr, Record, Service, Status};

pub(crate) const TCP: u8 = 6;

/// Where one end of a connection is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Peer {
    /// A monitored ENI (index into the topology).
    Eni(u32),
    /// A host outside the VPC, possibly an AWS service.
    External(Service),
}

/// One connection (or UDP/ICMP exchange) that may span several aggregation intervals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conn {
    pub client: Peer,
    pub server: Peer,
    pub client_addr: Addr,
    pub server_addr: Addr,
    pub client_port: u16,
    pub server_port: u16,
    pub protocol: u8,
    pub born: i64,
    pub dies: i64,
    /// Packets per second, client to server.
    pub pps: f64,
    /// Server-to-client packets per client packet (0 when nothing comes back).
    pub reply_ratio: f64,
    pub frame_c2s: (f64, f64),
    pub frame_s2c: (f64, f64),
    pub mtu: f64,
    pub accept: bool,
    pub rst: bool,
    /// The NAT gateway ENI that translates this flow, and its private address.
    pub nat: Option<(u32, u32)>,
    /// traffic-path of the client's egress record (and of the server's, when both are ENIs).
    pub client_path: u8,
    pub server_path: u8,
    /// An ENI that keeps this connection open as part of a pool.
    pub pool_owner: Option<u32>,
}

/// Writes the records of one connection for the interval `[t0, t1)`.
pub(crate) fn emit(
    c: &Conn,
    t0: i64,
    t1: i64,
    rng: &mut ChaCha8Rng,
    seen: &mut [bool],
    out: &mut Vec<Record>,
) {
    if c.born >= t1 || c.dies < t0 {
        return;
    }
    let first = c.born.max(t0);
    let last = c.dies.min(t1 - 1);
    let secs = (last - first + 1) as f64;
    let tcp = c.protocol == TCP;
    let opens = c.born >= t0;
    let closes = c.dies < t1;
    let fin_or_rst = |rst: bool| if rst { 4 } else { 1 };
    let c2s_flags = if tcp {
        (u8::from(opens) * 2) | u8::from(closes && !c.rst && c.accept)
    } else {
        0
    };
    let s2c_flags = if tcp {
        (u8::from(opens) * 18) | if closes { fin_or_rst(c.rst) } else { 0 }
    } else {
        0
    };
    let c2s_packets = ((c.pps * secs * between(rng, 0.7, 1.3)) as u64).max(1);
    let c2s = volume(rng, c2s_packets, c.frame_c2s, c.mtu, c.client_addr);
    let s2c_packets = (c2s_packets as f64 * c.reply_ratio) as u64;
    let s2c = (c.accept && s2c_packets > 0)
        .then(|| volume(rng, s2c_packets, c.frame_s2c, c.mtu, c.client_addr));
    let (c_svc, s_svc) = (service_of(c.client), service_of(c.server));
    let rec = |eni: u32,
               src: Addr,
               dst: Addr,
               pkt: (Addr, Addr),
               ports: (u16, u16),
               vol: (u64, u64),
               flags: u8,
               ingress: bool,
               path: u8,
               svc: (Service, Service)| Record {
        eni,
        status: Status::Ok,
        accept: c.accept,
        src,
        dst,
        pkt_src: pkt.0,
        pkt_dst: pkt.1,
        srcport: ports.0,
        dstport: ports.1,
        protocol: c.protocol,
        packets: vol.0,
        bytes: vol.1,
        start: first,
        end: last,
        tcp_flags: flags,
        ingress,
        traffic_path: if ingress { 0 } else { path },
        pkt_src_service: svc.0,
        pkt_dst_service: svc.1,
        reject_bpa: false,
    };
    let (ca, sa) = (c.client_addr, c.server_addr);
    let (cp, sp) = (c.client_port, c.server_port);
    let fwd = (cp, sp);
    let back = (sp, cp);
    if let Peer::Eni(e) = c.client {
        seen[e as usize] = true;
        out.push(rec(
            e,
            ca,
            sa,
            (ca, sa),
            fwd,
            c2s,
            c2s_flags,
            false,
            c.client_path,
            (c_svc, s_svc),
        ));
        if let Some(v) = s2c {
            out.push(rec(
                e,
                sa,
                ca,
                (sa, ca),
                back,
                v,
                s2c_flags,
                true,
                0,
                (s_svc, c_svc),
            ));
        }
    }
    if let Some((n, nat_ip)) = c.nat {
        // On the NAT gateway: the private side arrives with the internet host as packet
        // destination; it leaves from the NAT's own address; replies are translated back.
        seen[n as usize] = true;
        let na = Addr::V4(nat_ip);
        out.push(rec(
            n,
            ca,
            na,
            (ca, sa),
            fwd,
            c2s,
            c2s_flags,
            true,
            0,
            (c_svc, s_svc),
        ));
        out.push(rec(
            n,
            na,
            sa,
            (na, sa),
            fwd,
            c2s,
            c2s_flags,
            false,
            8,
            (Service::None, s_svc),
        ));
        if let Some(v) = s2c {
            out.push(rec(
                n,
                sa,
                na,
                (sa, na),
                back,
                v,
                s2c_flags,
                true,
                0,
                (s_svc, Service::None),
            ));
            out.push(rec(
                n,
                na,
                ca,
                (sa, ca),
                back,
                v,
                s2c_flags,
                false,
                1,
                (s_svc, c_svc),
            ));
        }
    }
    if let Peer::Eni(e) = c.server {
        seen[e as usize] = true;
        out.push(rec(
            e,
            ca,
            sa,
            (ca, sa),
            fwd,
            c2s,
            c2s_flags,
            true,
            0,
            (c_svc, s_svc),
        ));
        if let Some(v) = s2c {
            out.push(rec(
                e,
                sa,
                ca,
                (sa, ca),
                back,
                v,
                s2c_flags,
                false,
                c.server_path,
                (s_svc, c_svc),
            ));
        }
    }
}

fn service_of(peer: Peer) -> Service {
    match peer {
        Peer::External(s) => s,
        Peer::Eni(_) => Service::None,
    }
}

/// Packets and bytes with an average frame inside `frame` and within real frame limits.
pub(crate) fn volume(
    rng: &mut ChaCha8Rng,
    packets: u64,
    frame: (f64, f64),
    mtu: f64,
    family: Addr,
) -> (u64, u64) {
    let min = if matches!(family, Addr::V6(_)) {
        60.0
    } else {
        40.0
    };
    let avg = between(rng, frame.0, frame.1).clamp(min, mtu);
    let bytes = (packets as f64 * avg) as u64;
    (
        packets,
        bytes.clamp(packets * min as u64, packets * mtu as u64),
    )
}
