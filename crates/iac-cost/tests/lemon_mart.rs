//! stacks/lemon-mart.yaml priced, each line checked against figures worked out by hand
//! from the us-east-1 prices of prices/aws.yaml (docs/cost.md sets them beside the bill
//! the app's author paid).

use std::path::Path;

use iac_cost::prices::key;
use iac_cost::{estimate_stack, render, table, Estimate, ResourceEstimate, Status};
use iac_stack::{load_file, LoadOptions};

fn lemon_mart(opts: &LoadOptions) -> Estimate {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let loaded = load_file(&path, opts).expect("lemon-mart loads");
    estimate_stack(&loaded.stack)
}

fn resource<'e>(e: &'e Estimate, name: &str) -> &'e ResourceEstimate {
    e.resources.iter().find(|r| r.name == name).unwrap()
}

/// The monthly figures of a resource's lines, in order.
fn lines(e: &Estimate, name: &str) -> Vec<f64> {
    resource(e, name).lines.iter().map(|l| l.monthly).collect()
}

fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

// us-east-1, as written in prices/aws.yaml (checked against the table below).
const VCPU_HOUR: f64 = 0.04048;
const GB_HOUR: f64 = 0.004445;
const ALB_HOUR: f64 = 0.0225;
const LCU_HOUR: f64 = 0.008;
const IPV4_HOUR: f64 = 0.005;
const ZONE_MONTH: f64 = 0.50;
const QUERIES_MILLION: f64 = 0.40;
const LOGS_INGEST_GB: f64 = 0.50;
const LOGS_STORED_GB_MONTH: f64 = 0.03;
const HOURS: f64 = 730.0;

#[test]
fn the_hand_figures_use_the_table_s_prices() {
    let t = table();
    let p = |k: &str| t.get("us-east-1", k).unwrap().usd;
    assert_eq!(p(key::FARGATE_X86_VCPU_HOUR), VCPU_HOUR);
    assert_eq!(p(key::FARGATE_X86_GB_HOUR), GB_HOUR);
    assert_eq!(p(key::ALB_HOUR), ALB_HOUR);
    assert_eq!(p(key::ALB_LCU_HOUR), LCU_HOUR);
    assert_eq!(p(key::PUBLIC_IPV4_HOUR), IPV4_HOUR);
    assert_eq!(p(key::ROUTE53_ZONE_MONTH), ZONE_MONTH);
    assert_eq!(p(key::ROUTE53_QUERIES_MILLION), QUERIES_MILLION);
    assert_eq!(p(key::LOGS_INGEST_GB), LOGS_INGEST_GB);
    assert_eq!(p(key::LOGS_STORAGE_GB_MONTH), LOGS_STORED_GB_MONTH);
    assert_eq!(t.hours_per_month, HOURS);
}

#[test]
fn lemon_mart_is_priced_line_by_line_as_worked_out_by_hand() {
    let e = lemon_mart(&LoadOptions::default());
    // The service: 2 tasks of 256 CPU units (0.25 vCPU) and 512 MiB (0.5 GB), each with a
    // public IPv4 address (`assign_public_ip: true`).
    let web = [
        2.0 * 0.25 * HOURS * VCPU_HOUR, // $14.78
        2.0 * 0.5 * HOURS * GB_HOUR,    // $3.24
        2.0 * HOURS * IPV4_HOUR,        // $7.30
    ];
    close(&lines(&e, "web"), &web);
    // The load balancer: its hours, 0.1 LCU assumed, one public IPv4 address per subnet (2).
    let alb = [
        HOURS * ALB_HOUR,        // $16.43
        0.1 * HOURS * LCU_HOUR,  // $0.58
        2.0 * HOURS * IPV4_HOUR, // $7.30
    ];
    close(&lines(&e, "alb"), &alb);
    // The log group: 1 GB ingested a month assumed, kept 30 days (1 GB stored).
    let logs = [
        1.0 * LOGS_INGEST_GB,
        1.0 * 30.0 / 30.0 * LOGS_STORED_GB_MONTH,
    ];
    close(&lines(&e, "logs"), &logs);
    // The zone is looked up (`existing: true`): its owner pays it whatever this stack does.
    let zone = resource(&e, "zone");
    close(&lines(&e, "zone"), &[ZONE_MONTH, 0.1 * QUERIES_MILLION]);
    assert!(!zone.counted);

    let total: f64 = web.iter().chain(&alb).chain(&logs).sum();
    assert!((e.total - total).abs() < 1e-9, "{} vs {total}", e.total);
    assert_eq!(format!("{:.2}", e.total), "50.16");

    // Everything else is free, and nothing is left unpriced.
    let free = e.free();
    assert_eq!(
        free,
        [
            "vpc",
            "public_a",
            "public_b",
            "igw",
            "public_routes",
            "alb_sg",
            "app_sg",
            "cert",
            "web_tg",
            "https",
            "http",
            "cluster",
            "execution_role",
            "task",
            "site"
        ]
    );
    assert!(e.not_priced.is_empty());
    assert_eq!(
        e.assumed,
        [
            "alb_lcu_per_hour 0.1",
            "log_gb_per_month 1",
            "route53_queries_per_month_millions 0.1"
        ]
    );
}

#[test]
fn staging_runs_one_task() {
    let opts = LoadOptions {
        var_files: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/env/staging.yaml")],
        ..LoadOptions::default()
    };
    let e = lemon_mart(&opts);
    close(
        &lines(&e, "web"),
        &[
            0.25 * HOURS * VCPU_HOUR,
            0.5 * HOURS * GB_HOUR,
            HOURS * IPV4_HOUR,
        ],
    );
}

#[test]
fn the_usage_section_replaces_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let text = std::fs::read_to_string(path).unwrap() + "\nusage:\n  alb_lcu_per_hour: 2\n";
    let loaded = iac_stack::load_str("lemon-mart.yaml", &text, &LoadOptions::default()).unwrap();
    let e = estimate_stack(&loaded.stack);
    let lcu = &resource(&e, "alb").lines[1];
    close(&[lcu.monthly], &[2.0 * HOURS * LCU_HOUR]);
    assert_eq!(lcu.usage.as_deref(), Some("usage.alb_lcu_per_hour: 2"));
    assert!(!e.assumed.iter().any(|a| a.starts_with("alb_lcu_per_hour")));
}

#[test]
fn a_region_without_prices_is_not_priced_never_zero() {
    let opts = LoadOptions {
        region: Some("ap-south-2".into()),
        ..LoadOptions::default()
    };
    let e = lemon_mart(&opts);
    assert_eq!(e.not_priced, ["zone", "alb", "logs", "web"]);
    assert_eq!(
        resource(&e, "web").note.as_deref(),
        Some("no prices for region `ap-south-2` in prices/aws.yaml")
    );
    assert_eq!(resource(&e, "vpc").status, Status::Free);
}

#[test]
fn the_breakdown_of_lemon_mart() {
    insta::assert_snapshot!(render(&lemon_mart(&LoadOptions::default())));
}

/// stacks/web-service.yaml is lemon-mart as one `aws.web_service`: the same resources, so the
/// same bill, line by line (names aside).
#[test]
fn the_web_service_form_costs_what_the_long_form_does() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/web-service.yaml");
    let loaded = load_file(&path, &LoadOptions::default()).expect("web-service loads");
    let short = estimate_stack(&loaded.stack);
    let long = lemon_mart(&LoadOptions::default());
    assert!(
        (short.total - long.total).abs() < 1e-9,
        "{} vs {}",
        short.total,
        long.total
    );
    for (l, s) in [
        ("alb", "web.alb"),
        ("web", "web.service"),
        ("logs", "web.logs"),
        ("zone", "web.zone"),
    ] {
        close(&lines(&short, s), &lines(&long, l));
    }
}
