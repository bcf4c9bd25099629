//! Subnets against their VPC: EC2 refuses a subnet whose block is not inside the VPC's
//! (`InvalidSubnet.Range`) or overlaps a sibling (`InvalidSubnet.Conflict`), and only at apply
//! time, after the VPC already exists.

use ipnet::IpNet;

use super::Ctx;
use crate::model::Resource;
use crate::Diagnostics;

/// A VPC and the subnets that reference it, with their parsed blocks.
struct VpcSubnets<'a> {
    vpc: &'a Resource,
    net: IpNet,
    subnets: Vec<(&'a Resource, IpNet)>,
}

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut by_vpc: Vec<VpcSubnets> = Vec::new();
    for subnet in cx.of_type("aws.subnet") {
        let Some(vpc) = subnet.prop("vpc").and_then(|v| cx.target(v, "aws.vpc")) else {
            continue;
        };
        let (Some(vpc_net), Some(net)) = (cidr(cx, vpc), cidr(cx, subnet)) else {
            continue;
        };
        match by_vpc.iter_mut().find(|g| g.vpc.name == vpc.name) {
            Some(g) => g.subnets.push((subnet, net)),
            None => by_vpc.push(VpcSubnets {
                vpc,
                net: vpc_net,
                subnets: vec![(subnet, net)],
            }),
        }
    }

    for VpcSubnets {
        vpc,
        net: vpc_net,
        subnets,
    } in &by_vpc
    {
        for (subnet, net) in subnets {
            if !vpc_net.contains(net) {
                diags.push(
                    cx.error(
                        "iac::network::subnet_outside_vpc",
                        format!(
                            "subnet `{}` has CIDR `{net}`, which is not inside the CIDR `{vpc_net}` of its VPC `{}`",
                            subnet.name, vpc.name
                        ),
                    )
                    .label(subnet.span_of("cidr"), format!("`{net}` is outside `{vpc_net}`"))
                    .label(vpc.span_of("cidr"), "the VPC's CIDR")
                    .help(match free_block(*vpc_net, net.prefix_len(), subnets) {
                        Some(free) => format!(
                            "choose a block inside `{vpc_net}` that no other subnet uses (e.g. `{free}`), or widen the VPC's `cidr`"
                        ),
                        None => format!("choose a block inside `{vpc_net}`, or widen the VPC's `cidr`"),
                    }),
                );
            }
        }
        for (i, (a, net_a)) in subnets.iter().enumerate() {
            for (b, net_b) in &subnets[i + 1..] {
                if net_a.contains(net_b) || net_b.contains(net_a) {
                    diags.push(
                        cx.error(
                            "iac::network::subnets_overlap",
                            format!(
                                "subnets `{}` (`{net_a}`) and `{}` (`{net_b}`) of VPC `{}` overlap",
                                a.name, b.name, vpc.name
                            ),
                        )
                        .label(b.span_of("cidr"), format!("overlaps the block of `{}`", a.name))
                        .label(a.span_of("cidr"), format!("the block of `{}`", a.name))
                        .help(match free_block(*vpc_net, net_b.prefix_len(), subnets) {
                            Some(free) => format!(
                                "give each subnet of a VPC its own block: `{free}` is free for `{}`",
                                b.name
                            ),
                            None => "give each subnet of a VPC its own block, e.g. one /24 per subnet".into(),
                        }),
                    );
                }
            }
        }
    }
}

/// A resource's `cidr`, when known and valid (the loader reports invalid ones).
fn cidr(cx: &Ctx, r: &Resource) -> Option<IpNet> {
    cx.known_str(r.prop("cidr")?)?.parse().ok()
}

/// For a help line: the first block of prefix length `len` inside `vpc` that overlaps none
/// of the VPC's subnets. Only the first few thousand candidates are tried.
fn free_block(vpc: IpNet, len: u8, subnets: &[(&Resource, IpNet)]) -> Option<IpNet> {
    vpc.subnets(len.max(vpc.prefix_len()))
        .ok()?
        .take(4096)
        .find(|c| {
            subnets
                .iter()
                .all(|(_, s)| !s.contains(c) && !c.contains(s))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    fn kit(a: &str, b: &str) -> Kit {
        let mut k = Kit::new("net");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add(
            "a",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": a, "az": "us-east-1a"}),
        );
        k.add(
            "b",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": b, "az": "us-east-1b"}),
        );
        k
    }

    #[test]
    fn disjoint_subnets_inside_the_vpc_pass() {
        assert!(kit("10.0.1.0/24", "10.0.2.0/24").codes().is_empty());
    }

    #[test]
    fn subnet_outside_vpc_points_at_both_cidrs() {
        let k = kit("10.0.1.0/24", "10.1.0.0/24");
        let d = k.one("iac::network::subnet_outside_vpc");
        assert_eq!(k.labels(&d), ["b:cidr", "vpc:cidr"]);
        assert!(d.message.contains("`10.1.0.0/24`"), "{}", d.message);
        assert!(d.help.unwrap().contains("`10.0.0.0/24`"));
        let k = kit("10.0.0.0/24", "10.1.0.0/24");
        let help = k.one("iac::network::subnet_outside_vpc").help.unwrap();
        assert!(help.contains("`10.0.1.0/24`"), "{help}");
    }

    #[test]
    fn overlapping_subnets_label_both() {
        let k = kit("10.0.0.0/23", "10.0.1.0/24");
        let d = k.one("iac::network::subnets_overlap");
        assert_eq!(k.labels(&d), ["b:cidr", "a:cidr"]);
        assert_eq!(
            d.help.as_deref(),
            Some("give each subnet of a VPC its own block: `10.0.2.0/24` is free for `b`")
        );
    }

    #[test]
    fn subnets_of_different_vpcs_may_overlap() {
        let mut k = kit("10.0.1.0/24", "10.0.2.0/24");
        k.add("vpc2", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add(
            "c",
            "aws.subnet",
            json!({"vpc": "${vpc2.id}", "cidr": "10.0.1.0/24", "az": "us-east-1a"}),
        );
        assert!(k.codes().is_empty());
    }

    #[test]
    fn cidr_through_a_reference_is_resolved_and_unknown_is_skipped() {
        let mut k = Kit::new("net");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add("other", "aws.vpc", json!({"cidr": "192.168.0.0/16"}));
        // A subnet reusing another VPC's block through `${other.cidr}`: known, and outside.
        k.add(
            "a",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "${other.cidr}", "az": "us-east-1a"}),
        );
        assert_eq!(k.codes(), ["iac::network::subnet_outside_vpc"]);
        let mut k = Kit::new("net");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add("eip", "aws.eip", json!({}));
        k.add(
            "a",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "${eip.public_ip}/32", "az": "us-east-1a"}),
        );
        assert!(k.codes().is_empty());
    }
}
