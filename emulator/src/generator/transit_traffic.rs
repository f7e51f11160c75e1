//! Traffic through the transit gateways, interval after interval (always 60 s): service calls
//! and database sessions between VPCs, monitoring scrapes from the first VPC of each gateway,
//! pings, backups, and the rare flows the gateway drops (no route, a blackhole route, jumbo
//! frames above its 8,500-byte MTU, traceroute probes whose TTL expires), each logged as
//! [`TgwRecord`]s on the attachments it crosses.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::flows::{TCP, volume};
use super::random::{between, count, diurnal, heavy};
use super::record::{Addr, Status};
use super::topology::{EniKind, Topology};
use super::transit::{Loss, TgwRecord, Transit};

const UDP: u8 = 17;
const ICMP: u8 = 1;
/// The largest packet a transit gateway forwards.
const MTU_TGW: f64 = 8500.0;
/// Jumbo frames of the VPCs, which the gateway drops.
const MTU_VPC: f64 = 9001.0;
/// Keeps this model's random streams apart from the VPC model's.
const STREAM_SALT: u64 = 0x7467_775f_7472_6166;

/// One flow between an ENI and another VPC's ENI (or an address the gateway cannot reach).
#[derive(Debug, Clone, Copy)]
struct Flow {
    client: u32,
    /// The server's ENI; `None` for destinations the gateway drops whole.
    server: Option<u32>,
    server_addr: Addr,
    client_port: u16,
    server_port: u16,
    protocol: u8,
    born: i64,
    dies: i64,
    pps: f64,
    reply_ratio: f64,
    frame_c2s: (f64, f64),
    frame_s2c: (f64, f64),
    mtu: f64,
    rst: bool,
    /// Packets the gateway drops, and their share of the client's packets (1.0 = all).
    loss: Option<(Loss, f64)>,
}

/// The traffic through every transit gateway of the estate.
pub(crate) struct TransitModel {
    pub topology: Topology,
    pub transit: Transit,
    seed: u64,
    rate: f64,
    flows: Vec<Flow>,
    seen: Vec<bool>,
    /// Per VPC: ENIs that call services (App, ECS), that serve them (App, load balancer, ECS),
    /// databases, backup hosts, and everything monitored.
    clients: Vec<Vec<u32>>,
    services: Vec<Vec<u32>>,
    dbs: Vec<Vec<u32>>,
    bulks: Vec<Vec<u32>>,
    monitored: Vec<Vec<u32>>,
    /// Per VPC: the other VPCs attached to its gateway.
    peers: Vec<Vec<usize>>,
    /// Per VPC: whether it is the first of its gateway (it hosts the monitoring).
    hub: Vec<bool>,
}

impl TransitModel {
    pub(crate) fn new(topology: Topology, transit: Transit, seed: u64, rate: f64) -> Self {
        let n = topology.vpcs.len();
        let mut lists = vec![Vec::new(); n];
        let (mut clients, mut services, mut dbs, mut bulks, mut monitored) = (
            lists.clone(),
            lists.clone(),
            lists.clone(),
            lists.clone(),
            std::mem::take(&mut lists),
        );
        for (i, eni) in topology.enis.iter().enumerate() {
            let (i, v) = (i as u32, eni.vpc);
            match eni.kind {
                EniKind::App | EniKind::Ecs => {
                    clients[v].push(i);
                    services[v].push(i);
                }
                EniKind::LoadBalancer => services[v].push(i),
                EniKind::Db(_) => dbs[v].push(i),
                EniKind::Bulk => bulks[v].push(i),
                _ => {}
            }
            if !matches!(eni.kind, EniKind::Idle | EniKind::Nat) {
                monitored[v].push(i);
            }
        }
        let peers = transit
            .attachments
            .iter()
            .map(|a| {
                transit
                    .attachments
                    .iter()
                    .filter(|b| b.gateway == a.gateway && b.vpc != a.vpc)
                    .map(|b| b.vpc)
                    .collect()
            })
            .collect();
        let hub = transit
            .attachments
            .iter()
            .map(|a| {
                transit
                    .attachments
                    .iter()
                    .find(|b| b.gateway == a.gateway)
                    .is_some_and(|b| b.vpc == a.vpc)
            })
            .collect();
        let attachments = transit.attachments.len();
        Self {
            topology,
            transit,
            seed: seed ^ STREAM_SALT,
            rate,
            flows: Vec::new(),
            seen: vec![false; attachments],
            clients,
            services,
            dbs,
            bulks,
            monitored,
            peers,
            hub,
        }
    }

    /// Appends every record of the interval `[t0, t0 + 60)` to `out`.
    pub(crate) fn interval(&mut self, t0: i64, out: &mut Vec<TgwRecord>) {
        let t1 = t0 + 60;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(t0.unsigned_abs());
        let level = self.rate * diurnal(t0);
        for v in 0..self.topology.vpcs.len() {
            self.spawn(v, t0, level, &mut rng);
        }
        self.seen.iter_mut().for_each(|s| *s = false);
        let flows = std::mem::take(&mut self.flows);
        for f in &flows {
            self.emit(f, t0, t1, &mut rng, out);
        }
        self.flows = flows;
        self.flows.retain(|f| f.dies >= t1);
        for a in 0..self.seen.len() {
            let status = if !self.seen[a] {
                Some(Status::NoData)
            } else if rng.random_bool(0.0005) {
                Some(Status::SkipData)
            } else {
                None
            };
            if let Some(status) = status {
                let start = t0 + rng.random_range(0..4);
                let end = t1 - 1 - rng.random_range(0..4);
                out.push(TgwRecord::status_only(a as u32, status, start, end));
            }
        }
    }

    fn pick(rng: &mut ChaCha8Rng, list: &[u32]) -> Option<u32> {
        (!list.is_empty()).then(|| list[rng.random_range(0..list.len())])
    }

    fn flow(&self, client: u32, server: u32, t0: i64, rng: &mut ChaCha8Rng) -> Flow {
        Flow {
            client,
            server: Some(server),
            server_addr: Addr::V4(self.topology.enis[server as usize].ipv4),
            client_port: rng.random_range(32768..61000),
            server_port: 443,
            protocol: TCP,
            born: t0 + rng.random_range(0..60),
            dies: 0,
            pps: 5.0,
            reply_ratio: 1.0,
            frame_c2s: (60.0, 700.0),
            frame_s2c: (150.0, 1400.0),
            mtu: MTU_TGW,
            rst: rng.random_bool(0.02),
            loss: None,
        }
    }

    /// Starts the new flows of one VPC for this interval.
    fn spawn(&mut self, v: usize, t0: i64, level: f64, rng: &mut ChaCha8Rng) {
        let peers = self.peers[v].clone();
        let clients = self.clients[v].clone();
        let peer = |rng: &mut ChaCha8Rng| peers[rng.random_range(0..peers.len())];
        if !peers.is_empty() {
            for &c in &clients {
                for _ in 0..count(rng, 1.2 * level) {
                    let p = peer(rng);
                    let Some(s) = Self::pick(rng, &self.services[p]) else {
                        continue;
                    };
                    let mut f = self.flow(c, s, t0, rng);
                    f.server_port = if rng.random_bool(0.7) { 443 } else { 8080 };
                    f.dies = f.born + heavy(rng, 0.3, 300.0) as i64;
                    f.pps = heavy(rng, 2.0, 800.0);
                    f.reply_ratio = between(rng, 0.8, 1.5);
                    self.flows.push(f);
                }
                for _ in 0..count(rng, 0.8 * level) {
                    let p = peer(rng);
                    let Some(db) = Self::pick(rng, &self.dbs[p]) else {
                        continue;
                    };
                    let mut f = self.flow(c, db, t0, rng);
                    if let EniKind::Db(port) = self.topology.enis[db as usize].kind {
                        f.server_port = port;
                    }
                    f.dies = f.born + heavy(rng, 0.1, 120.0) as i64;
                    f.pps = heavy(rng, 5.0, 3000.0);
                    f.reply_ratio = between(rng, 0.7, 1.3);
                    (f.frame_c2s, f.frame_s2c) = ((60.0, 900.0), (80.0, 8000.0));
                    self.flows.push(f);
                }
            }
            // The first VPC of a gateway hosts monitoring, which scrapes every peer each minute.
            if let (true, Some(&scraper)) = (self.hub[v], clients.first()) {
                for &p in &peers {
                    for &target in &self.monitored[p].clone() {
                        let mut f = self.flow(scraper, target, t0, rng);
                        f.server_port = 9100;
                        f.dies = f.born + rng.random_range(0..3);
                        (f.pps, f.rst) = (3.0, false);
                        (f.frame_c2s, f.frame_s2c) = ((80.0, 200.0), (300.0, 1400.0));
                        self.flows.push(f);
                    }
                }
            }
            for _ in 0..count(rng, 0.2 * level) {
                let p = peer(rng);
                let (Some(c), Some(s)) = (
                    Self::pick(rng, &self.monitored[v]),
                    Self::pick(rng, &self.monitored[p]),
                ) else {
                    continue;
                };
                let mut f = self.flow(c, s, t0, rng);
                (f.protocol, f.client_port, f.server_port) = (ICMP, 0, 0);
                f.dies = f.born + rng.random_range(0..10);
                (f.pps, f.rst) = (1.0, false);
                (f.frame_c2s, f.frame_s2c) = ((84.0, 84.0), (84.0, 84.0));
                self.flows.push(f);
            }
            for &b in &self.bulks[v].clone() {
                if !rng.random_bool(1.0 / 30.0) {
                    continue;
                }
                let p = peer(rng);
                let Some(s) = Self::pick(rng, &self.bulks[p]).or(Self::pick(rng, &self.dbs[p]))
                else {
                    continue;
                };
                let mut f = self.flow(b, s, t0, rng);
                f.dies = f.born + rng.random_range(600..2400);
                f.pps = between(rng, 5_000.0, 30_000.0);
                (f.frame_c2s, f.frame_s2c, f.reply_ratio) = ((1400.0, 8400.0), (52.0, 64.0), 0.5);
                f.rst = false;
                self.flows.push(f);
            }
            self.drops(v, &peers, t0, rng);
        }
        self.unreachable(v, t0, rng);
    }

    /// Flows the gateway forwards in part: jumbo UDP frames above its MTU, traceroutes.
    fn drops(&mut self, v: usize, peers: &[usize], t0: i64, rng: &mut ChaCha8Rng) {
        for _ in 0..count(rng, 0.02 * self.rate) {
            let p = peers[rng.random_range(0..peers.len())];
            let (Some(c), Some(s)) = (
                Self::pick(rng, &self.clients[v]),
                Self::pick(rng, &self.services[p]),
            ) else {
                continue;
            };
            let mut f = self.flow(c, s, t0, rng);
            (f.protocol, f.server_port, f.rst) = (UDP, 5001, false);
            f.dies = f.born + rng.random_range(5..120);
            f.pps = between(rng, 50.0, 2000.0);
            (f.frame_c2s, f.mtu, f.reply_ratio) = ((7000.0, 9001.0), MTU_VPC, 0.0);
            f.loss = Some((Loss::MtuExceeded, between(rng, 0.05, 0.3)));
            self.flows.push(f);
        }
        for _ in 0..count(rng, 0.01 * self.rate) {
            let p = peers[rng.random_range(0..peers.len())];
            let (Some(c), Some(s)) = (
                Self::pick(rng, &self.monitored[v]),
                Self::pick(rng, &self.monitored[p]),
            ) else {
                continue;
            };
            let mut f = self.flow(c, s, t0, rng);
            (f.protocol, f.rst) = (UDP, false);
            f.server_port = 33434 + rng.random_range(0..30);
            f.dies = f.born + rng.random_range(1..5);
            (f.pps, f.reply_ratio) = (3.0, 0.0);
            f.frame_c2s = (60.0, 60.0);
            f.loss = Some((Loss::TtlExpired, between(rng, 0.1, 0.4)));
            self.flows.push(f);
        }
    }

    /// Flows the gateway drops whole: to networks with no route, or with a blackhole route
    /// (an old on-premises range whose VPN was removed).
    fn unreachable(&mut self, v: usize, t0: i64, rng: &mut ChaCha8Rng) {
        for (loss, mean) in [(Loss::NoRoute, 0.03), (Loss::Blackhole, 0.03)] {
            for _ in 0..count(rng, mean * self.rate) {
                let Some(c) = Self::pick(rng, &self.monitored[v]) else {
                    continue;
                };
                let mut f = self.flow(c, c, t0, rng);
                f.server = None;
                let host: u32 = rng.random_range(1..0xfffe);
                f.server_addr = Addr::V4(match loss {
                    Loss::NoRoute => (172 << 24) | (rng.random_range(16..32) << 16) | host,
                    _ => (192 << 24) | (168 << 16) | host,
                });
                f.server_port = [22, 443, 5432, 3389][rng.random_range(0..4)];
                f.dies = f.born + rng.random_range(0..3);
                (f.pps, f.reply_ratio, f.rst) = (1.0, 0.0, false);
                f.frame_c2s = (60.0, 60.0);
                f.loss = Some((loss, 1.0));
                self.flows.push(f);
            }
        }
    }

    /// Writes the records of one flow for the interval `[t0, t1)`.
    fn emit(&mut self, f: &Flow, t0: i64, t1: i64, rng: &mut ChaCha8Rng, out: &mut Vec<TgwRecord>) {
        if f.born >= t1 || f.dies < t0 {
            return;
        }
        let (first, last) = (f.born.max(t0), f.dies.min(t1 - 1));
        let secs = (last - first + 1) as f64;
        let (opens, closes, tcp) = (f.born >= t0, f.dies < t1, f.protocol == TCP);
        // Transit gateways also log PSH (8) and ACK (16) beside other flags; ACK alone is 0.
        let data = |frame: (f64, f64)| if frame.1 > 100.0 { 8 | 16 } else { 0 };
        let c2s_flags = if tcp {
            (u8::from(opens) * 2) | u8::from(closes && !f.rst) | data(f.frame_c2s)
        } else {
            0
        };
        let s2c_flags = if tcp {
            (u8::from(opens) * 18)
                | if closes { if f.rst { 4 } else { 1 } } else { 0 }
                | data(f.frame_s2c)
        } else {
            0
        };
        let client = &self.topology.enis[f.client as usize];
        let client_addr = Addr::V4(client.ipv4);
        let packets = ((f.pps * secs * between(rng, 0.7, 1.3)) as u64).max(1);
        let (packets, bytes) = volume(rng, packets, f.frame_c2s, f.mtu, client_addr);
        let mut lost = [0u64; 4];
        if let Some((kind, share)) = f.loss {
            let n = ((packets as f64 * share).round() as u64).clamp(1, packets);
            lost[kind as usize] = n;
        }
        let delivered = packets - lost.iter().sum::<u64>();
        let src_attachment = client.vpc as u32;
        let server = f.server.map(|s| &self.topology.enis[s as usize]);
        let dst_attachment = server.filter(|_| delivered > 0).map(|s| s.vpc as u32);
        let record =
            |src_attachment: u32, dst_attachment, ingress, az, addrs: (Addr, Addr)| TgwRecord {
                status: Status::Ok,
                src_attachment,
                dst_attachment,
                ingress,
                az,
                src: addrs.0,
                dst: addrs.1,
                srcport: 0,
                dstport: 0,
                protocol: f.protocol,
                packets: 0,
                bytes: 0,
                start: first,
                end: last,
                tcp_flags: 0,
                lost: [0; 4],
            };
        let (fwd, back) = ((client_addr, f.server_addr), (f.server_addr, client_addr));
        self.seen[src_attachment as usize] = true;
        out.push(TgwRecord {
            srcport: f.client_port,
            dstport: f.server_port,
            packets,
            bytes,
            tcp_flags: c2s_flags,
            lost,
            ..record(src_attachment, dst_attachment, true, client.az, fwd)
        });
        let (Some(server), Some(dst_attachment)) = (server, dst_attachment) else {
            return;
        };
        self.seen[dst_attachment as usize] = true;
        out.push(TgwRecord {
            srcport: f.client_port,
            dstport: f.server_port,
            packets: delivered,
            bytes: if delivered == packets {
                bytes
            } else {
                delivered * (bytes / packets).min(MTU_TGW as u64)
            },
            tcp_flags: c2s_flags,
            ..record(src_attachment, Some(dst_attachment), false, client.az, fwd)
        });
        let replies = (delivered as f64 * f.reply_ratio) as u64;
        if replies == 0 {
            return;
        }
        let (replies, reply_bytes) = volume(rng, replies, f.frame_s2c, f.mtu, client_addr);
        for ingress in [true, false] {
            out.push(TgwRecord {
                srcport: f.server_port,
                dstport: f.client_port,
                packets: replies,
                bytes: reply_bytes,
                tcp_flags: s2c_flags,
                ..record(
                    dst_attachment,
                    Some(src_attachment),
                    ingress,
                    server.az,
                    back,
                )
            });
        }
    }
}
