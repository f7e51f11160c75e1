//! The traffic model: connections born from seeded patterns (inbound web with a diurnal rate,
//! scans rejected in bursts, east-west database pools, DNS, ICMP, egress to S3 and DynamoDB
//! through a gateway endpoint, NAT-translated flows, bulk transfers, idle ENIs), aggregated per
//! ENI and per aggregation interval into records exactly as VPC Flow Logs would log them.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::flows::{Conn, Peer, TCP, emit};
use super::random::{between, count, diurnal, heavy};
use super::record::{Addr, Record, Service, Status};
use super::topology::{EniKind, Topology, public_address};

const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
/// Frame limits: internet paths use a 1500-byte MTU, inside the VPC jumbo frames of 9001.
const MTU_INTERNET: f64 = 1500.0;
const MTU_VPC: f64 = 9001.0;
const SCAN_PORTS: [u16; 12] = [
    22, 3389, 23, 445, 1433, 3306, 5900, 8080, 6379, 9200, 25, 21,
];

/// Knobs of the model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelOptions {
    pub seed: u64,
    pub aggregation: i64,
    /// Multiplies every rate (1.0 ≈ 375 records per minute per VPC at an average hour).
    pub rate: f64,
}

/// The traffic of the whole topology, interval after interval.
pub(crate) struct TrafficModel {
    pub topology: Topology,
    options: ModelOptions,
    conns: Vec<Conn>,
    pool_counts: Vec<u32>,
    seen: Vec<bool>,
    /// Per VPC: [NAT ENIs, DB ENIs, pool targets (App/ECS)], [resolver].
    nats: Vec<Vec<u32>>,
    dbs: Vec<Vec<u32>>,
    targets: Vec<Vec<u32>>,
}

impl TrafficModel {
    pub(crate) fn new(topology: Topology, options: ModelOptions) -> Self {
        let n = topology.vpcs.len();
        let (mut nats, mut dbs, mut targets) = (
            vec![Vec::new(); n],
            vec![Vec::new(); n],
            vec![Vec::new(); n],
        );
        for (i, eni) in topology.enis.iter().enumerate() {
            let i = i as u32;
            match eni.kind {
                EniKind::Nat => nats[eni.vpc].push(i),
                EniKind::Db(_) => dbs[eni.vpc].push(i),
                EniKind::App | EniKind::Ecs => targets[eni.vpc].push(i),
                _ => {}
            }
        }
        let enis = topology.enis.len();
        Self {
            topology,
            options,
            conns: Vec::new(),
            pool_counts: vec![0; enis],
            seen: vec![false; enis],
            nats,
            dbs,
            targets,
        }
    }

    /// Appends every record of the interval `[t0, t0 + aggregation)` to `out`.
    pub(crate) fn interval(&mut self, t0: i64, out: &mut Vec<Record>) {
        let agg = self.options.aggregation;
        let t1 = t0 + agg;
        let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed);
        rng.set_stream(t0.unsigned_abs());
        let scale = self.options.rate * agg as f64 / 60.0;
        let level = scale * diurnal(t0);
        self.pool_counts.iter_mut().for_each(|c| *c = 0);
        for c in &self.conns {
            if let Some(owner) = c.pool_owner {
                self.pool_counts[owner as usize] += 1;
            }
        }
        for e in 0..self.topology.enis.len() {
            self.spawn(e as u32, t0, scale, level, &mut rng);
        }
        self.seen.iter_mut().for_each(|s| *s = false);
        let conns = std::mem::take(&mut self.conns);
        for c in &conns {
            emit(c, t0, t1, &mut rng, &mut self.seen, out);
        }
        self.conns = conns;
        self.conns.retain(|c| c.dies >= t1);
        for e in 0..self.topology.enis.len() {
            let status = if !self.seen[e] {
                Some(Status::NoData)
            } else if rng.random_bool(0.0005) {
                Some(Status::SkipData)
            } else {
                None
            };
            if let Some(status) = status {
                let start = t0 + rng.random_range(0..4);
                let end = t1 - 1 - rng.random_range(0..4);
                out.push(Record::status_only(e as u32, status, start, end));
            }
        }
    }

    /// Starts the new connections of one ENI for this interval.
    fn spawn(&mut self, e: u32, t0: i64, scale: f64, level: f64, rng: &mut ChaCha8Rng) {
        let eni = &self.topology.enis[e as usize];
        let (kind, vpc) = (eni.kind, eni.vpc);
        match kind {
            EniKind::Web | EniKind::LoadBalancer => {
                let web = if kind == EniKind::Web { 20.0 } else { 40.0 };
                for _ in 0..count(rng, web * level) {
                    self.inbound_web(e, t0, rng);
                }
                for _ in 0..count(rng, 0.6 * level) {
                    self.inbound_icmp(e, t0, rng);
                }
                // Internet background noise does not sleep at night.
                for _ in 0..count(rng, 10.0 * scale) {
                    let scanner = Addr::V4(public_address(rng));
                    self.scan(e, scanner, t0, rng);
                }
                if kind == EniKind::LoadBalancer {
                    let targets = self.targets[vpc].clone();
                    while !targets.is_empty() && self.pool_counts[e as usize] < 4 {
                        let target = targets[rng.random_range(0..targets.len())];
                        self.pooled(e, target, 8080, t0, rng);
                    }
                }
            }
            EniKind::App | EniKind::Ecs => {
                let dns = if kind == EniKind::App { 8.0 } else { 3.0 };
                for _ in 0..count(rng, dns * level) {
                    self.dns(e, t0, rng);
                }
                for _ in 0..count(rng, 3.0 * level) {
                    self.aws_service(e, Service::Dynamodb, t0, rng);
                }
                if kind == EniKind::App {
                    for _ in 0..count(rng, 3.0 * level) {
                        self.aws_service(e, Service::S3, t0, rng);
                    }
                    for _ in 0..count(rng, 2.0 * level) {
                        self.via_nat(e, t0, rng);
                    }
                    let dbs = self.dbs[vpc].clone();
                    if !dbs.is_empty() {
                        while self.pool_counts[e as usize] < 3 {
                            let db = dbs[rng.random_range(0..dbs.len())];
                            self.pooled(e, db, 0, t0, rng);
                        }
                        for _ in 0..count(rng, 2.0 * level) {
                            let db = dbs[rng.random_range(0..dbs.len())];
                            self.short_db(e, db, t0, rng);
                        }
                    }
                }
            }
            EniKind::Bulk => {
                for _ in 0..count(rng, 0.5 * level) {
                    self.aws_service(e, Service::S3, t0, rng);
                }
                if rng.random_bool((self.options.aggregation as f64 / 3600.0).min(1.0)) {
                    self.bulk(e, t0, rng);
                }
            }
            EniKind::Db(_) | EniKind::Nat | EniKind::Idle => {}
        }
        // A burst: one scanner sweeps ports on every public ENI of the VPC.
        if kind == EniKind::Web && rng.random_bool((0.03 * scale).min(1.0)) {
            let scanner = Addr::V4(public_address(rng));
            let public: Vec<u32> = (0..self.topology.enis.len() as u32)
                .filter(|&i| {
                    let x = &self.topology.enis[i as usize];
                    x.vpc == vpc && matches!(x.kind, EniKind::Web | EniKind::LoadBalancer)
                })
                .collect();
            for _ in 0..rng.random_range(30..150) {
                let target = public[rng.random_range(0..public.len())];
                self.scan(target, scanner, t0, rng);
            }
        }
    }

    fn base(
        &self,
        client: Peer,
        server: Peer,
        client_addr: Addr,
        server_addr: Addr,
        t0: i64,
        rng: &mut ChaCha8Rng,
    ) -> Conn {
        Conn {
            client,
            server,
            client_addr,
            server_addr,
            client_port: rng.random_range(32768..61000),
            server_port: 443,
            protocol: TCP,
            born: t0 + rng.random_range(0..self.options.aggregation),
            dies: 0,
            pps: 10.0,
            reply_ratio: 1.0,
            frame_c2s: (60.0, 400.0),
            frame_s2c: (400.0, 1500.0),
            mtu: MTU_INTERNET,
            accept: true,
            rst: rng.random_bool(0.03),
            nat: None,
            client_path: 0,
            server_path: 0,
            pool_owner: None,
        }
    }

    fn client_address(&self, e: u32, rng: &mut ChaCha8Rng) -> (Addr, Addr) {
        let eni = &self.topology.enis[e as usize];
        match eni.ipv6 {
            Some(v6) if rng.random_bool(0.15) => (Addr::V6(random_ipv6(rng)), Addr::V6(v6)),
            _ => (Addr::V4(public_address(rng)), Addr::V4(eni.ipv4)),
        }
    }

    fn inbound_web(&mut self, e: u32, t0: i64, rng: &mut ChaCha8Rng) {
        let (client_addr, server_addr) = self.client_address(e, rng);
        let mut c = self.base(
            Peer::External(Service::None),
            Peer::Eni(e),
            client_addr,
            server_addr,
            t0,
            rng,
        );
        c.server_port = if rng.random_bool(0.85) { 443 } else { 80 };
        c.client_port = if rng.random_bool(0.7) {
            rng.random_range(32768..61000)
        } else {
            rng.random_range(49152..=65535)
        };
        c.dies = c.born + heavy(rng, 0.5, 900.0) as i64;
        c.pps = heavy(rng, 2.0, 2000.0);
        c.reply_ratio = between(rng, 0.8, 1.6);
        c.server_path = 8;
        self.conns.push(c);
    }

    fn inbound_icmp(&mut self, e: u32, t0: i64, rng: &mut ChaCha8Rng) {
        let (client_addr, server_addr) = self.client_address(e, rng);
        let mut c = self.base(
            Peer::External(Service::None),
            Peer::Eni(e),
            client_addr,
            server_addr,
            t0,
            rng,
        );
        let v6 = matches!(client_addr, Addr::V6(_));
        c.protocol = if v6 { ICMPV6 } else { ICMP };
        (c.client_port, c.server_port) = (0, 0);
        c.dies = c.born + rng.random_range(0..10);
        c.pps = 1.0;
        let size = if v6 { 104.0 } else { 84.0 };
        (c.frame_c2s, c.frame_s2c) = ((size, size), (size, size));
        c.accept = rng.random_bool(0.8);
        c.reply_ratio = if c.accept { 1.0 } else { 0.0 };
        c.server_path = 8;
        self.conns.push(c);
    }

    fn scan(&mut self, e: u32, scanner: Addr, t0: i64, rng: &mut ChaCha8Rng) {
        if self.topology.enis[e as usize].public_ipv4.is_none() {
            return;
        }
        let server_addr = Addr::V4(self.topology.enis[e as usize].ipv4);
        let mut c = self.base(
            Peer::External(Service::None),
            Peer::Eni(e),
            scanner,
            server_addr,
            t0,
            rng,
        );
        c.server_port = SCAN_PORTS[rng.random_range(0..SCAN_PORTS.len())];
        c.dies = c.born + rng.random_range(0..3);
        c.pps = 1.0;
        (c.frame_c2s, c.reply_ratio) = ((40.0, 60.0), 0.0);
        (c.accept, c.rst) = (false, false);
        self.conns.push(c);
    }

    fn pooled(&mut self, e: u32, target: u32, port: u16, t0: i64, rng: &mut ChaCha8Rng) {
        let mut c = self.short_db(e, target, t0, rng);
        if port != 0 {
            c.server_port = port;
        }
        c.dies = c.born + rng.random_range(300..7200);
        c.pps = heavy(rng, 1.0, 3000.0);
        c.pool_owner = Some(e);
        c.rst = false;
        self.pool_counts[e as usize] += 1;
        if let Some(last) = self.conns.last_mut() {
            *last = c;
        }
    }

    fn short_db(&mut self, e: u32, db: u32, t0: i64, rng: &mut ChaCha8Rng) -> Conn {
        let (a, b) = (
            &self.topology.enis[e as usize],
            &self.topology.enis[db as usize],
        );
        let port = if let EniKind::Db(p) = b.kind { p } else { 8080 };
        let (ca, sa) = (Addr::V4(a.ipv4), Addr::V4(b.ipv4));
        let mut c = self.base(Peer::Eni(e), Peer::Eni(db), ca, sa, t0, rng);
        c.server_port = port;
        c.dies = c.born + heavy(rng, 0.1, 120.0) as i64;
        c.pps = heavy(rng, 5.0, 5000.0);
        c.reply_ratio = between(rng, 0.7, 1.3);
        (c.frame_c2s, c.frame_s2c, c.mtu) = ((60.0, 900.0), (80.0, 8000.0), MTU_VPC);
        (c.client_path, c.server_path) = (1, 1);
        self.conns.push(c);
        c
    }

    fn dns(&mut self, e: u32, t0: i64, rng: &mut ChaCha8Rng) {
        let eni = &self.topology.enis[e as usize];
        let resolver = self.topology.vpcs[eni.vpc].base + 2;
        let mut c = self.base(
            Peer::Eni(e),
            Peer::External(Service::None),
            Addr::V4(eni.ipv4),
            Addr::V4(resolver),
            t0,
            rng,
        );
        (c.protocol, c.server_port, c.rst) = (UDP, 53, false);
        c.client_port = rng.random_range(1024..=65535);
        c.dies = c.born + rng.random_range(0..2);
        c.pps = 1.0;
        (c.frame_c2s, c.frame_s2c) = ((60.0, 110.0), (76.0, 480.0));
        c.client_path = 1;
        self.conns.push(c);
    }

    fn aws_service(&mut self, e: u32, service: Service, t0: i64, rng: &mut ChaCha8Rng) {
        let eni = &self.topology.enis[e as usize];
        let dst = match service {
            Service::S3 if rng.random_bool(0.7) => {
                (52u32 << 24) | (216 << 16) | rng.random_range(0..0x2_0000)
            }
            Service::S3 => (3u32 << 24) | (5 << 16) | rng.random_range(0..0x2000),
            _ => (52u32 << 24) | (94 << 16) | rng.random_range(0..0x400),
        };
        let mut c = self.base(
            Peer::Eni(e),
            Peer::External(service),
            Addr::V4(eni.ipv4),
            Addr::V4(dst),
            t0,
            rng,
        );
        c.dies = c.born + heavy(rng, 0.2, 60.0) as i64;
        c.pps = heavy(rng, 5.0, 20000.0);
        (c.frame_c2s, c.frame_s2c) = ((60.0, 600.0), (200.0, 1500.0));
        c.client_path = 7;
        self.conns.push(c);
    }

    fn via_nat(&mut self, e: u32, t0: i64, rng: &mut ChaCha8Rng) {
        let eni = &self.topology.enis[e as usize];
        let nats = &self.nats[eni.vpc];
        let mut c = self.base(
            Peer::Eni(e),
            Peer::External(Service::None),
            Addr::V4(eni.ipv4),
            Addr::V4(public_address(rng)),
            t0,
            rng,
        );
        if !nats.is_empty() {
            let n = nats[rng.random_range(0..nats.len())];
            c.nat = Some((n, self.topology.enis[n as usize].ipv4));
        }
        c.dies = c.born + heavy(rng, 0.3, 300.0) as i64;
        c.pps = heavy(rng, 2.0, 2000.0);
        c.client_path = if c.nat.is_some() { 1 } else { 8 };
        self.conns.push(c);
    }

    fn bulk(&mut self, e: u32, t0: i64, rng: &mut ChaCha8Rng) {
        self.aws_service(e, Service::S3, t0, rng);
        if let Some(c) = self.conns.last_mut() {
            c.dies = c.born + rng.random_range(600..2400);
            c.pps = between(rng, 20_000.0, 60_000.0);
            (c.frame_c2s, c.frame_s2c, c.reply_ratio) = ((1400.0, 1500.0), (52.0, 64.0), 0.5);
            c.rst = false;
        }
    }
}

/// A global unicast IPv6 address from blocks that ISPs really use (never 2001:db8::/32).
fn random_ipv6(rng: &mut ChaCha8Rng) -> u128 {
    const PREFIXES: [u16; 8] = [
        0x2a00, 0x2a01, 0x2a02, 0x2600, 0x2601, 0x2605, 0x2804, 0x2409,
    ];
    let prefix = u128::from(PREFIXES[rng.random_range(0..PREFIXES.len())]);
    (prefix << 112) | (rng.random::<u128>() >> 16)
}
