//! The invariant checker itself: it accepts AWS's own sample lines and rejects broken ones, so a
//! green run of the generator tests means something.

mod generator_support;

use anyhow::ensure;
use generator_support::{Expect, check_line};

const V5_HEADER: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";
const V5_EGRESS: &str = "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK";

fn expect() -> Expect {
    Expect {
        version: 5,
        aggregation: 600,
        window_start: 1_616_729_100,
    }
}

#[test]
fn the_checker_accepts_the_aws_v5_sample() -> anyhow::Result<()> {
    let header: Vec<&str> = V5_HEADER.split(' ').collect();
    check_line(&header, V5_EGRESS, &expect())
}

#[test]
fn the_checker_rejects_lines_that_break_an_invariant() -> anyhow::Result<()> {
    let header: Vec<&str> = V5_HEADER.split(' ').collect();
    let broken = [
        (" 8 egress OK", " 8 ingress OK", "traffic-path on ingress"),
        (" 6 1616729292", " 17 1616729292", "tcp-flags on UDP"),
        (" 34210 80 6", " 34210 80 1", "ICMP with ports"),
        (" 7 471 ", " 7 47 ", "bytes below the smallest frame"),
        (" 7 471 ", " 1 90000 ", "bytes above the largest frame"),
        ("ACCEPT 3", "ACCEPT 16", "ACK without SYN"),
        ("1616729349", "1616729999", "end outside the window"),
        (" IPv4 ", " IPv6 ", "type that does not match the address"),
        (" - S3 ", " - SQS ", "unknown AWS service"),
        ("ACCEPT 3", "ACCEPT  3", "double space"),
        (" OK", " NODATA", "traffic fields on NODATA"),
    ];
    for (from, to, what) in broken {
        let line = V5_EGRESS.replacen(from, to, 1);
        ensure!(line != V5_EGRESS, "{what}: pattern {from:?} not found");
        ensure!(
            check_line(&header, &line, &expect()).is_err(),
            "the checker accepted {what}: {line}"
        );
    }
    Ok(())
}
