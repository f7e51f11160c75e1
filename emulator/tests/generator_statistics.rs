//! Statistical sanity of one simulated hour: the shares a network engineer expects to see.
//!
//! Documented ranges (default estate: 2 VPCs × 13 ENIs, 600 s aggregation, 08:00–09:00 UTC):
//! REJECT 3–20 % of records; TCP ≥ 75 %, UDP 4–20 %, ICMP/ICMPv6 0.05–3 %; NODATA 0.02–5 % (idle ENIs log one per interval);
//! IPv6 1–15 %; SKIPDATA under 0.5 %; records per hour 20,000–80,000.

mod generator_support;

use anyhow::ensure;
use flowlog_emulator::generator::{GenerateOptions, LogFormat, generate};
use generator_support::gunzip;

#[test]
fn one_simulated_hour_has_realistic_shares() -> anyhow::Result<()> {
    let mut options = GenerateOptions {
        seed: 7,
        ..GenerateOptions::default()
    };
    options.service.format = LogFormat::parse("${protocol} ${type} ${action} ${log-status}")?;
    let generated = generate(&options)?;
    let (mut total, mut reject, mut tcp, mut udp, mut icmp, mut nodata, mut skipdata, mut ipv6) =
        (0f64, 0f64, 0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    for object in &generated.objects {
        for line in gunzip(&object.body)?.lines().skip(1) {
            let t: Vec<&str> = line.split(' ').collect();
            total += 1.0;
            reject += f64::from(u8::from(t[2] == "REJECT"));
            tcp += f64::from(u8::from(t[0] == "6"));
            udp += f64::from(u8::from(t[0] == "17"));
            icmp += f64::from(u8::from(t[0] == "1" || t[0] == "58"));
            ipv6 += f64::from(u8::from(t[1] == "IPv6"));
            nodata += f64::from(u8::from(t[3] == "NODATA"));
            skipdata += f64::from(u8::from(t[3] == "SKIPDATA"));
        }
    }
    let share = |n: f64| n / total * 100.0;
    let report = format!(
        "records {total}, REJECT {:.2}%, TCP {:.2}%, UDP {:.2}%, ICMP {:.2}%, NODATA {:.2}%, SKIPDATA {:.3}%, IPv6 {:.2}%",
        share(reject),
        share(tcp),
        share(udp),
        share(icmp),
        share(nodata),
        share(skipdata),
        share(ipv6)
    );
    println!("{report}");
    ensure!((20_000.0..=80_000.0).contains(&total), "{report}");
    ensure!((3.0..=20.0).contains(&share(reject)), "{report}");
    ensure!(share(tcp) >= 75.0, "{report}");
    ensure!((4.0..=20.0).contains(&share(udp)), "{report}");
    ensure!((0.05..=3.0).contains(&share(icmp)), "{report}");
    ensure!((0.02..=5.0).contains(&share(nodata)), "{report}");
    ensure!(share(skipdata) < 0.5, "{report}");
    ensure!((1.0..=15.0).contains(&share(ipv6)), "{report}");
    Ok(())
}
