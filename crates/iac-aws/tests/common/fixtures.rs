//! Stack pieces that several suites drive through the little engine: each resource as
//! `(name, type, properties)` with the schema's defaults filled in, as the engine hands
//! them over. `${NAME.ATTR}` strings are resolved from resources created before.

use serde_json::{json, Value as Json};

/// One resource of a little-engine stack: its name, its type and its properties.
pub type Resource = (&'static str, &'static str, Json);

/// The TLS policy the stacks' HTTPS listeners name.
pub const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The managed policy an ECS task execution role is given.
pub const EXEC_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// The health check of a target group on `path`, every field given (the engine fills
/// defaults).
pub fn health_check(path: &str) -> Json {
    json!({
        "path": path, "interval": 15, "timeout": 5,
        "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200",
    })
}

/// `vpc` (10.0.0.0/16, DNS on) and its public subnets `public_a` and `public_b`.
pub fn public_network() -> Vec<Resource> {
    vec![
        (
            "vpc",
            "aws.vpc",
            json!({"cidr": "10.0.0.0/16", "dns_hostnames": true, "dns_support": true}),
        ),
        (
            "public_a",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "10.0.1.0/24", "az": "us-east-1a", "public": true}),
        ),
        (
            "public_b",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "10.0.2.0/24", "az": "us-east-1b", "public": true}),
        ),
    ]
}

/// [`public_network`], the private subnets `private_a` (and `private_b` when `two_private`),
/// the internet gateway `igw`, the NAT gateway `nat` (with its address `nat_ip`) and the
/// route tables `public_routes` and `private_routes`.
pub fn nat_network(two_private: bool) -> Vec<Resource> {
    let mut out = public_network();
    out.push((
        "private_a",
        "aws.subnet",
        json!({"vpc": "${vpc.id}", "cidr": "10.0.11.0/24", "az": "us-east-1a", "public": false}),
    ));
    let mut private = vec!["${private_a.id}"];
    if two_private {
        out.push((
            "private_b",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "10.0.12.0/24", "az": "us-east-1b", "public": false}),
        ));
        private.push("${private_b.id}");
    }
    out.extend([
        ("igw", "aws.internet_gateway", json!({"vpc": "${vpc.id}"})),
        ("nat_ip", "aws.eip", json!({})),
        (
            "nat",
            "aws.nat_gateway",
            json!({"subnet": "${public_a.id}", "eip": "${nat_ip.id}"}),
        ),
        (
            "public_routes",
            "aws.route_table",
            json!({
                "vpc": "${vpc.id}",
                "routes": [{"destination": "0.0.0.0/0", "gateway": "${igw.id}"}],
                "subnets": ["${public_b.id}", "${public_a.id}"],
            }),
        ),
        (
            "private_routes",
            "aws.route_table",
            json!({
                "vpc": "${vpc.id}",
                "routes": [{"destination": "0.0.0.0/0", "nat_gateway": "${nat.id}"}],
                "subnets": private,
            }),
        ),
    ]);
    out
}

/// The hosted zone `zone` named `zone_name`, the certificate `cert` of `domain` validated
/// in it, and the internet-facing load balancer `alb` named `alb_name` in `public_a` and
/// `public_b`, behind the group `alb_sg`.
pub fn web_edge(zone_name: &str, domain: &str, alb_name: &str) -> Vec<Resource> {
    vec![
        ("zone", "aws.hosted_zone", json!({"name": zone_name})),
        (
            "cert",
            "aws.certificate",
            json!({"domain": domain, "validation_zone": "${zone.id}"}),
        ),
        (
            "alb",
            "aws.load_balancer",
            json!({
                "name": alb_name,
                "subnets": ["${public_a.id}", "${public_b.id}"],
                "security_groups": ["${alb_sg.id}"],
                "internal": false,
                "idle_timeout": 60,
            }),
        ),
    ]
}

/// The target group `web_tg` named `name` in `vpc`: HTTP on port 80 to IP targets, checked
/// on `/healthCheck`.
pub fn web_target_group(name: &str) -> Resource {
    (
        "web_tg",
        "aws.target_group",
        json!({
            "name": name,
            "vpc": "${vpc.id}",
            "port": 80,
            "protocol": "HTTP",
            "target_type": "ip",
            "health_check": health_check("/healthCheck"),
            "deregistration_delay": 30,
        }),
    )
}

/// The listeners of lemon-mart's balancer `alb`: `https` (443, certificate `cert`,
/// forwarding to `web_tg`) and `http` (80, redirecting to HTTPS).
pub fn web_listeners() -> Vec<Resource> {
    vec![
        (
            "https",
            "aws.listener",
            json!({
                "load_balancer": "${alb.arn}",
                "port": 443,
                "protocol": "HTTPS",
                "certificate": "${cert.arn}",
                "ssl_policy": SSL_POLICY,
                "forward": "${web_tg.arn}",
            }),
        ),
        (
            "http",
            "aws.listener",
            json!({
                "load_balancer": "${alb.arn}",
                "port": 80,
                "protocol": "HTTP",
                "ssl_policy": SSL_POLICY,
                "redirect": {"protocol": "HTTPS", "port": 443, "status": 301},
            }),
        ),
    ]
}

/// The records of zone `zone` (named `zone_name`): `site`, an alias of `domain` to the
/// balancer `alb`, and `verification`, a TXT record of two values.
pub fn site_records(zone_name: &str, domain: &str) -> Vec<Resource> {
    vec![
        (
            "site",
            "aws.dns_record",
            json!({
                "zone": "${zone.id}",
                "name": domain,
                "record_type": "A",
                "alias": {"dns_name": "${alb.dns_name}", "zone_id": "${alb.zone_id}", "evaluate_target_health": true},
            }),
        ),
        (
            "verification",
            "aws.dns_record",
            json!({
                "zone": "${zone.id}",
                "name": format!("verify.{zone_name}"),
                "record_type": "TXT",
                "ttl": 60,
                "values": ["site-verification=abc", "second value"],
            }),
        ),
    ]
}

/// The order AWS accepts the deletes of a cluster's EC2 capacity in, as pairs of requests
/// (the first sent before the second): the cluster lets go of its providers before it is
/// deleted, the cluster before its provider, the provider before its Auto Scaling group,
/// the group before its launch template.
pub const CAPACITY_DELETE_ORDER: &[(&str, &str)] = &[
    ("ecs:PutClusterCapacityProviders", "ecs:DeleteCluster"),
    ("ecs:DeleteCluster", "ecs:DeleteCapacityProvider"),
    (
        "ecs:DeleteCapacityProvider",
        "autoscaling:DeleteAutoScalingGroup",
    ),
    (
        "autoscaling:DeleteAutoScalingGroup",
        "ec2:DeleteLaunchTemplate",
    ),
];
