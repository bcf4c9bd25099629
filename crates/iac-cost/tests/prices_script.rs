//! scripts/prices.py (`just prices`), which refreshes prices/aws.yaml from AWS's price list
//! files, run on a small excerpt of real offer files (tests/fixtures/prices/: the AmazonECS
//! and AWSELB files of us-east-1 and the global AmazonRoute53 file, cut down to a few
//! products; the ARM vCPU price there is changed on purpose, so a rewrite shows). The test
//! runs it with `--from-dir` on a copy of the table and reads the result with the table's own
//! parser: the prices it finds are rewritten with the new date, a classic load balancer's
//! price is not taken for the application load balancer's, a tiered price takes its first
//! tier, Route 53's per-query price becomes per million, and what the files lack is kept.
//!
//! Needs `python3`; without it this test fails, it never skips.

use std::path::PathBuf;
use std::process::Command;

use iac_cost::prices::PriceTable;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_refresh_script_rewrites_what_the_offer_files_price() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let table = tmp.path().join("aws.yaml");
    std::fs::copy(repo().join("prices/aws.yaml"), &table).expect("copy the table");
    let out = Command::new("python3")
        .arg(repo().join("scripts/prices.py"))
        .arg("--table")
        .arg(&table)
        .arg("--from-dir")
        .arg(repo().join("tests/fixtures/prices"))
        .args(["--date", "2027-01-02"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "us-east-1 fargate_arm_vcpu_hour: 0.03238 -> 0.033\n"
    );

    let before =
        PriceTable::parse(&std::fs::read_to_string(repo().join("prices/aws.yaml")).unwrap())
            .expect("the committed table parses");
    let after = PriceTable::parse(&std::fs::read_to_string(&table).unwrap())
        .expect("the rewritten table parses");
    let usd = |t: &PriceTable, region: &str, key: &str| t.get(region, key).map(|p| p.usd);
    assert_eq!(
        usd(&after, "us-east-1", "fargate_arm_vcpu_hour"),
        Some(0.033)
    );
    assert_eq!(
        usd(&after, "us-east-1", "alb_hour"),
        Some(0.0225),
        "not the classic one"
    );
    assert_eq!(
        usd(&after, "us-east-1", "route53_zone_month"),
        Some(0.5),
        "the first tier"
    );
    assert_eq!(
        usd(&after, "us-east-1", "route53_queries_million"),
        Some(0.4)
    );
    let read = |t: &PriceTable, region: &str, key: &str| t.get(region, key).map(|p| p.read.clone());
    assert_eq!(
        read(&after, "us-east-1", "alb_hour").as_deref(),
        Some("2027-01-02")
    );
    // Not in the excerpt: kept as it was, date included.
    for (region, key) in [
        ("us-east-1", "nat_gateway_hour"),
        ("eu-west-1", "fargate_x86_vcpu_hour"),
    ] {
        assert_eq!(
            usd(&after, region, key),
            usd(&before, region, key),
            "{region} {key}"
        );
        assert_eq!(
            read(&after, region, key),
            read(&before, region, key),
            "{region} {key}"
        );
    }
    // Comments and order stay: the file differs only in the lines it rewrote.
    let old = std::fs::read_to_string(repo().join("prices/aws.yaml")).unwrap();
    let new = std::fs::read_to_string(&table).unwrap();
    assert_eq!(old.lines().count(), new.lines().count());
    assert!(new.starts_with("# On-demand AWS prices"), "{new}");
}
