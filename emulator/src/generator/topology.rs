//! The simulated estate behind each flow log: VPCs with CIDRs, subnets in AZs, and ENIs of
//! several kinds (instances, NAT gateway, load balancer, ECS task, idle), built from a seed.

use std::net::Ipv4Addr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One flow log: an account and region whose ENIs it captures, delivering under its own id.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub account_id: String,
    pub region: String,
    pub flow_log_id: String,
}

/// What sits behind an ENI; decides which traffic patterns it takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EniKind {
    /// An instance with a public IP serving 443/80 to the internet.
    Web,
    /// A load balancer node (requester-managed: no instance id).
    LoadBalancer,
    /// An application instance in a private subnet.
    App,
    /// A database or cache instance listening on this port.
    Db(u16),
    /// A NAT gateway (requester-managed).
    Nat,
    /// An ECS task on Fargate (awsvpc), with the ecs-* fields.
    Ecs,
    /// A backup instance that moves large objects to S3.
    Bulk,
    /// An ENI with no traffic (NODATA every interval).
    Idle,
}

/// The ecs-* fields of a task ENI, pre-rendered.
#[derive(Debug, Clone)]
pub(crate) struct EcsFields {
    pub cluster_arn: String,
    pub cluster_name: String,
    pub container_id: String,
    pub second_container_id: String,
    pub service_name: String,
    pub task_definition_arn: String,
    pub task_arn: String,
    pub task_id: String,
}

/// One VPC: its id, 10.x.0.0/16 block and IPv6 /56.
#[derive(Debug, Clone)]
pub(crate) struct Vpc {
    pub id: String,
    /// The /16 base address.
    pub base: u32,
    /// The flow log (account and region) whose estate holds it.
    pub source: usize,
}

/// One network interface with its identity fields pre-rendered.
#[derive(Debug, Clone)]
pub(crate) struct Eni {
    pub source: usize,
    pub vpc: usize,
    pub kind: EniKind,
    pub id: String,
    pub subnet_id: String,
    pub instance_id: String,
    pub az_id: String,
    /// Which of the VPC's three AZs (0 to 2) holds it.
    pub az: u8,
    pub ipv4: u32,
    pub public_ipv4: Option<u32>,
    pub ipv6: Option<u128>,
    pub ecs: Option<EcsFields>,
    /// Which of the service's parallel writers handles this ENI (several files per window).
    pub shard: u32,
}

/// The whole simulated estate.
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    pub sources: Vec<Source>,
    pub vpcs: Vec<Vpc>,
    pub enis: Vec<Eni>,
}

/// The repeating mix of ENI kinds in each VPC.
const PATTERN: [EniKind; 13] = [
    EniKind::LoadBalancer,
    EniKind::Nat,
    EniKind::Web,
    EniKind::App,
    EniKind::Db(5432),
    EniKind::Ecs,
    EniKind::Idle,
    EniKind::App,
    EniKind::Db(6379),
    EniKind::Web,
    EniKind::Db(3306),
    EniKind::Bulk,
    EniKind::Idle,
];

/// Sizing of the estate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizing {
    pub vpcs: u32,
    pub enis_per_vpc: u32,
    pub shards: u32,
}

pub(crate) fn hex_id(rng: &mut ChaCha8Rng, prefix: &str, digits: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(prefix.len() + digits);
    s.push_str(prefix);
    for _ in 0..digits {
        s.push(HEX[rng.random_range(0..16usize)] as char);
    }
    s
}

/// The AZ id prefix of a region: `us-east-1` → `use1`, `ap-southeast-2` → `apse2`.
pub(crate) fn az_prefix(region: &str) -> String {
    let mut parts = region.split('-');
    let mut out: String = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        match part {
            "north" | "south" | "east" | "west" | "central" => out.push_str(&part[..1]),
            "northeast" | "northwest" | "southeast" | "southwest" => {
                out.push_str(&part[..1]);
                out.push_str(&part[5..6]);
            }
            other if other.bytes().all(|b| b.is_ascii_digit()) => out.push_str(other),
            other => out.push_str(&other[..1]),
        }
    }
    out
}

impl Topology {
    /// Builds VPCs and ENIs for every source; all randomness comes from `rng`.
    pub(crate) fn build(rng: &mut ChaCha8Rng, sources: Vec<Source>, sizing: Sizing) -> Self {
        let mut vpcs = Vec::new();
        let mut enis = Vec::new();
        for (s, source) in sources.iter().enumerate() {
            let az = az_prefix(&source.region);
            for _ in 0..sizing.vpcs {
                let v = vpcs.len();
                let second_octet = u32::try_from(v % 250).unwrap_or(0);
                let base = u32::from(Ipv4Addr::new(10, 0, 0, 0)) | (second_octet << 16);
                let ipv6_base = (0x2600_1f18_u128 << 96)
                    | (u128::from(rng.random::<u16>()) << 80)
                    | ((v as u128 & 0xff) << 72);
                vpcs.push(Vpc {
                    id: hex_id(rng, "vpc-", 17),
                    base,
                    source: s,
                });
                // Three AZs, each with a public (x.x.N.0/24) and a private (x.x.1N.0/24) subnet.
                let subnets: Vec<(String, String, u32)> = (0..6)
                    .map(|i| {
                        let az_id = format!("{az}-az{}", (i % 3) + 1);
                        let third = if i < 3 { i } else { 10 + i - 3 };
                        (hex_id(rng, "subnet-", 17), az_id, third)
                    })
                    .collect();
                for n in 0..sizing.enis_per_vpc {
                    let kind = PATTERN[n as usize % PATTERN.len()];
                    let public =
                        matches!(kind, EniKind::Web | EniKind::LoadBalancer | EniKind::Nat);
                    let az = n as usize % 3;
                    let (subnet_id, az_id, third) = &subnets[if public { az } else { 3 + az }];
                    let host = 10 + n * 7 % 240 + rng.random_range(0..5);
                    let ipv4 = base | (third << 8) | host;
                    let requester_managed =
                        matches!(kind, EniKind::Nat | EniKind::LoadBalancer | EniKind::Ecs);
                    let instance_id = if requester_managed {
                        "-".to_owned()
                    } else {
                        hex_id(rng, "i-", 17)
                    };
                    let public_ipv4 = public.then(|| public_address(rng));
                    let ipv6 = matches!(kind, EniKind::Web | EniKind::LoadBalancer).then(|| {
                        ipv6_base | (u128::from(*third) << 64) | u128::from(rng.random::<u64>())
                    });
                    let ecs = (kind == EniKind::Ecs).then(|| ecs_fields(rng, source));
                    let id = hex_id(rng, "eni-", 17);
                    let shard = rng.random_range(0..sizing.shards.max(1));
                    enis.push(Eni {
                        source: s,
                        vpc: v,
                        kind,
                        id,
                        subnet_id: subnet_id.clone(),
                        instance_id,
                        az_id: az_id.clone(),
                        az: az as u8,
                        ipv4,
                        public_ipv4,
                        ipv6,
                        ecs,
                        shard,
                    });
                }
            }
        }
        Self {
            sources,
            vpcs,
            enis,
        }
    }
}

/// A public unicast IPv4 address outside private, shared, loopback and link-local blocks.
pub(crate) fn public_address(rng: &mut ChaCha8Rng) -> u32 {
    loop {
        let a: u32 = rng.random();
        let ip = Ipv4Addr::from(a);
        let o = ip.octets();
        let reserved = o[0] == 0
            || o[0] == 10
            || o[0] == 127
            || o[0] >= 224
            || (o[0] == 100 && (64..128).contains(&o[1]))
            || (o[0] == 169 && o[1] == 254)
            || (o[0] == 172 && (16..32).contains(&o[1]))
            || (o[0] == 192 && o[1] == 168);
        if !reserved {
            return a;
        }
    }
}

fn ecs_fields(rng: &mut ChaCha8Rng, source: &Source) -> EcsFields {
    let (region, account) = (&source.region, &source.account_id);
    let cluster_name = "prod-web".to_owned();
    let service_name = "checkout".to_owned();
    let task_id = hex_id(rng, "", 32);
    let container_id = format!(
        "{task_id}-{}",
        rng.random_range(1_000_000_000u64..4_000_000_000)
    );
    let second_container_id = format!(
        "{task_id}-{}",
        rng.random_range(1_000_000_000u64..4_000_000_000)
    );
    EcsFields {
        cluster_arn: format!("arn:aws:ecs:{region}:{account}:cluster/{cluster_name}"),
        task_definition_arn: format!(
            "arn:aws:ecs:{region}:{account}:task-definition/{service_name}:7"
        ),
        task_arn: format!("arn:aws:ecs:{region}:{account}:task/{cluster_name}/{task_id}"),
        cluster_name,
        container_id,
        second_container_id,
        service_name,
        task_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az_prefixes_follow_aws_naming() {
        for (region, prefix) in [
            ("us-east-1", "use1"),
            ("us-west-2", "usw2"),
            ("eu-central-1", "euc1"),
            ("ap-southeast-2", "apse2"),
            ("ap-northeast-1", "apne1"),
            ("sa-east-1", "sae1"),
        ] {
            assert_eq!(az_prefix(region), prefix, "{region}");
        }
    }
}
