//! EC2 capacity for ECS (docs/ec2-capacity.md): what AWS refuses at apply time and the
//! emulator accepts (a capacity provider with managed termination protection over a group
//! without scale-in protection, a provider name AWS reserves, a default strategy naming a
//! provider the cluster does not list or giving a base to two, a group whose sizes do not
//! fit, an instance profile whose role EC2 cannot assume), and a warning for a launch
//! template for ECS whose AMI is not an ECS-optimised one.

use std::collections::HashSet;

use super::{items, set, Ctx};
use crate::model::Resource;
use crate::schema::ECS_AMI_FAMILY;
use crate::value::Value;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut ecs_templates: HashSet<&str> = HashSet::new();
    // The first provider over each group of the stack.
    let mut group_taken: std::collections::HashMap<&str, &Resource> = Default::default();
    for cp in cx.of_type("aws.capacity_provider") {
        if cp.existing {
            continue;
        }
        provider(cx, cp, diags);
        if let Some(Value::Ref(r)) = set(cp, "autoscaling_group") {
            match group_taken.get(r.resource.as_str()) {
                Some(first) => diags.push(
                    cx.error(
                        "iac::capacity_provider::shared_group",
                        format!(
                            "capacity providers `{}` and `{}` are both over the group `{}`: ECS allows one provider per group",
                            first.name, cp.name, r.resource
                        ),
                    )
                    .label(cp.span_of("autoscaling_group"), "a second provider over the group")
                    .label(first.span_of("autoscaling_group"), "the first")
                    .help(format!("give `{}` an Auto Scaling group of its own", cp.name)),
                ),
                None => {
                    group_taken.insert(r.resource.as_str(), cp);
                }
            }
        }
        // The template behind the provider's group is one for ECS.
        let group =
            set(cp, "autoscaling_group").and_then(|v| cx.target(v, "aws.autoscaling_group"));
        if let Some(lt) = group
            .and_then(|g| set(g, "launch_template"))
            .and_then(|v| cx.target(v, "aws.launch_template"))
        {
            ecs_templates.insert(lt.name.as_str());
        }
    }
    for g in cx.of_type("aws.autoscaling_group") {
        if !g.existing {
            group_sizes(cx, g, diags);
        }
    }
    for lt in cx.of_type("aws.launch_template") {
        if !lt.existing
            && (set(lt, "cluster").is_some() || ecs_templates.contains(lt.name.as_str()))
        {
            ami(cx, lt, diags);
        }
    }
    for c in cx.of_type("aws.ecs_cluster") {
        if !c.existing {
            strategy(cx, c, "default_strategy", c, diags);
        }
    }
    // A service's own strategy names providers of its cluster too (an existing cluster's
    // list is not known here).
    for svc in cx.of_type("aws.ecs_service") {
        if let Some(c) = set(svc, "cluster")
            .and_then(|v| cx.target(v, "aws.ecs_cluster"))
            .filter(|c| !c.existing)
        {
            strategy(cx, svc, "capacity_provider_strategy", c, diags);
        }
    }
    for p in cx.of_type("aws.instance_profile") {
        if !p.existing {
            profile_role(cx, p, diags);
        }
    }
}

fn provider(cx: &Ctx, cp: &Resource, diags: &mut Diagnostics) {
    if let Some(name) = set(cp, "name").and_then(|v| cx.known_str(v)) {
        let lower = name.to_ascii_lowercase();
        if let Some(prefix) = ["aws", "ecs", "fargate"]
            .iter()
            .find(|p| lower.starts_with(*p))
        {
            diags.push(
                cx.error(
                    "iac::capacity_provider::reserved_name",
                    format!("capacity provider `{}` is named `{name}`, which starts with `{prefix}`: ECS reserves that prefix", cp.name),
                )
                .label(cp.span_of("name"), "the provider's name (by default `<stack>-<NAME>`)")
                .help("give the provider a `name` that does not start with `aws`, `ecs` or `fargate`"),
            );
        }
    }
    if let Some(t) = set(cp, "managed_scaling.target_capacity")
        .and_then(|v| cx.known_int(v))
        .filter(|t| !(1..=100).contains(t))
    {
        diags.push(
            cx.error(
                "iac::capacity_provider::invalid_target_capacity",
                format!("capacity provider `{}` aims at {t} percent of its group's capacity, outside 1-100", cp.name),
            )
            .label(cp.span_of("managed_scaling.target_capacity"), "not a percentage")
            .help("give `target_capacity` a percentage from 1 to 100; 100 keeps no spare instance"),
        );
    }
    let protects = set(cp, "managed_termination_protection")
        .and_then(|v| cx.known(v))
        .and_then(Value::as_bool);
    if protects != Some(true) {
        return;
    }
    let Some(group) =
        set(cp, "autoscaling_group").and_then(|v| cx.target(v, "aws.autoscaling_group"))
    else {
        return;
    };
    let scale_in = set(group, "protect_from_scale_in")
        .and_then(|v| cx.known(v))
        .and_then(Value::as_bool);
    if scale_in == Some(false) {
        diags.push(
            cx.error(
                "iac::capacity_provider::unprotected_group",
                format!(
                    "capacity provider `{}` has managed termination protection, but its group `{}` does not protect new instances from scale-in: ECS refuses the provider",
                    cp.name, group.name
                ),
            )
            .label(cp.span_of("managed_termination_protection"), "managed termination protection")
            .label(group.span_of("protect_from_scale_in"), "instances not protected from scale-in")
            .help(format!("set `protect_from_scale_in: true` on `{}`, or `managed_termination_protection: false`", group.name)),
        );
    }
}

fn group_sizes(cx: &Ctx, g: &Resource, diags: &mut Diagnostics) {
    let int = |path: &str| set(g, path).and_then(|v| cx.known_int(v));
    let (Some(min), Some(max)) = (int("min"), int("max")) else {
        return;
    };
    if min > max {
        diags.push(
            cx.error(
                "iac::autoscaling_group::min_above_max",
                format!(
                    "Auto Scaling group `{}` has `min: {min}` above `max: {max}`",
                    g.name
                ),
            )
            .label(g.span_of("min"), "the fewest instances")
            .label(g.span_of("max"), "is more than the most")
            .help("make `min` at most `max`; Auto Scaling refuses the group otherwise"),
        );
    } else if let Some(desired) = int("desired").filter(|d| *d < min || *d > max) {
        diags.push(
            cx.error(
                "iac::autoscaling_group::desired_outside_range",
                format!("Auto Scaling group `{}` starts with `desired: {desired}`, outside `min: {min}` to `max: {max}`", g.name),
            )
            .label(g.span_of("desired"), "the starting count")
            .help(format!("set `desired` between `{min}` and `{max}`, or leave it out to start with `min`")),
        );
    }
}

fn ami(cx: &Ctx, lt: &Resource, diags: &mut Diagnostics) {
    let Some(parameter) = set(lt, "ami_parameter").and_then(|v| cx.known_str(v)) else {
        return;
    };
    if parameter.starts_with(ECS_AMI_FAMILY) {
        return;
    }
    diags.push(
        cx.warning(
            "iac::launch_template::ami_not_ecs_optimized",
            format!("launch template `{}` is for ECS instances, but its AMI parameter `{parameter}` is not one of the ECS-optimised AMIs", lt.name),
        )
        .label(lt.span_of("ami_parameter"), format!("not under `{ECS_AMI_FAMILY}`"))
        .help("leave `ami_parameter` out for the ECS-optimised Amazon Linux 2023 AMI, or make sure the AMI runs the ECS agent, or its instances never join the cluster"),
    );
}

/// What a strategy entry or a listed provider names: the known name, or the reference.
fn provider_key(cx: &Ctx, v: &Value) -> Option<String> {
    if let Some(s) = cx.known_str(v) {
        return Some(s.to_owned());
    }
    match v {
        Value::Ref(r) => Some(format!("${{{}.{}}}", r.resource, r.attr)),
        _ => None,
    }
}

/// The entries of `owner`'s strategy `prop` (a cluster's `default_strategy`, a service's
/// `capacity_provider_strategy`) against the `capacity_providers` of `cluster`: each names a
/// provider the cluster lists, and at most one has a base.
fn strategy(cx: &Ctx, owner: &Resource, prop: &str, cluster: &Resource, diags: &mut Diagnostics) {
    let entries = items(owner, prop);
    if entries.is_empty() {
        return;
    }
    let kind = if owner.schema.name == "aws.ecs_cluster" {
        "ecs_cluster"
    } else {
        "service"
    };
    let listed: Vec<Option<String>> = items(cluster, "capacity_providers")
        .into_iter()
        .map(|(_, v)| provider_key(cx, v))
        .collect();
    // A listed provider only apply knows: nothing can be said about the entries.
    let all_known = listed.iter().all(Option::is_some);
    let listed: HashSet<String> = listed.into_iter().flatten().collect();
    let mut first_base: Option<String> = None;
    for (path, entry) in entries {
        let named_path = format!("{path}.capacity_provider");
        if let Some(key) = entry
            .get("capacity_provider")
            .and_then(|v| provider_key(cx, v))
        {
            if all_known && !listed.contains(&key) {
                let mut d = cx
                    .error(
                        if kind == "service" {
                            "iac::service::strategy_provider_not_listed"
                        } else {
                            "iac::ecs_cluster::strategy_provider_not_listed"
                        },
                        if kind == "service" {
                            format!("service `{}` has `{key}` in its `{prop}`, but its cluster `{}` does not list it in its `capacity_providers`: ECS refuses the strategy", owner.name, cluster.name)
                        } else {
                            format!("cluster `{}` has `{key}` in its `{prop}`, but not in its `capacity_providers`: ECS refuses the strategy", owner.name)
                        },
                    )
                    .label(owner.span_of(&named_path), "not a provider of the cluster");
                if owner.name != cluster.name {
                    d = d.label(
                        cluster.span_of("capacity_providers"),
                        "the cluster's providers",
                    );
                }
                diags.push(d.help(format!(
                    "add `{key}` to the `capacity_providers` of `{}`, or take it out of `{prop}`",
                    cluster.name
                )));
            }
        }
        let base = entry.get("base").and_then(|v| cx.known_int(v)).unwrap_or(0);
        if base > 0 {
            match &first_base {
                None => first_base = Some(path.clone()),
                Some(first) => diags.push(
                    cx.error(
                        if kind == "service" {
                            "iac::service::several_bases"
                        } else {
                            "iac::ecs_cluster::several_bases"
                        },
                        format!("{} `{}` gives a `base` to more than one entry of `{prop}`: ECS allows one", if kind == "service" { "service" } else { "cluster" }, owner.name),
                    )
                    .label(owner.span_of(&format!("{path}.base")), "a second base")
                    .label(owner.span_of(&format!("{first}.base")), "the first")
                    .help("keep `base` on one entry; the weights share out the rest"),
                ),
            }
        }
    }
}

fn profile_role(cx: &Ctx, p: &Resource, diags: &mut Diagnostics) {
    let Some(role) = set(p, "role").and_then(|v| cx.target(v, "aws.iam_role")) else {
        return;
    };
    let Some(principal) = set(role, "assumed_by").and_then(|v| cx.known_str(v)) else {
        return;
    };
    if principal != "ec2.amazonaws.com" {
        diags.push(
            cx.error(
                "iac::instance_profile::role_not_for_instances",
                format!("instance profile `{}` holds role `{}`, which `{principal}` assumes, not EC2: its instances would have no credentials", p.name, role.name),
            )
            .label(p.span_of("role"), "the profile's role")
            .label(role.span_of("assumed_by"), "assumed by another service")
            .help(format!("give `{}` `assumed_by: ec2.amazonaws.com`, or a role of its own", role.name)),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    /// A sound layout: role, profile, template, group, provider, cluster.
    fn kit(protect: bool, strategy: serde_json::Value) -> Kit {
        let mut k = Kit::new("shop");
        k.add(
            "role",
            "aws.iam_role",
            json!({"assumed_by": "ec2.amazonaws.com"}),
        );
        k.add(
            "profile",
            "aws.instance_profile",
            json!({"role": "${role.name}"}),
        );
        k.add(
            "lt",
            "aws.launch_template",
            json!({"instance_type": "t3.small", "instance_profile": "${profile.arn}"}),
        );
        k.add(
            "asg",
            "aws.autoscaling_group",
            json!({"launch_template": "${lt.id}", "subnets": ["subnet-1"], "min": 1, "max": 3,
                   "protect_from_scale_in": protect}),
        );
        k.add(
            "cp",
            "aws.capacity_provider",
            json!({"autoscaling_group": "${asg.arn}", "managed_termination_protection": true}),
        );
        k.add(
            "cluster",
            "aws.ecs_cluster",
            json!({"capacity_providers": ["${cp.name}", "FARGATE_SPOT"], "default_strategy": strategy}),
        );
        k
    }

    #[test]
    fn a_sound_layout_passes() {
        let k = kit(
            true,
            json!([{"capacity_provider": "${cp.name}", "base": 1},
                   {"capacity_provider": "FARGATE_SPOT", "weight": 3}]),
        );
        assert_eq!(k.codes(), Vec::<&str>::new());
    }

    #[test]
    fn each_mistake_has_its_code_and_points_at_it() {
        let mut k = kit(
            false,
            json!([{"capacity_provider": "${cp.name}", "base": 1},
                   {"capacity_provider": "FARGATE", "base": 2}]),
        );
        k.add(
            "small",
            "aws.autoscaling_group",
            json!({"launch_template": "${lt.id}", "subnets": ["subnet-1"], "min": 4, "max": 2}),
        );
        k.add(
            "crowded",
            "aws.autoscaling_group",
            json!({"launch_template": "${lt.id}", "subnets": ["subnet-1"], "min": 0, "max": 2,
                   "desired": 3}),
        );
        k.add(
            "other",
            "aws.launch_template",
            json!({"instance_type": "t3.small", "cluster": "shop",
                   "ami_parameter": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}),
        );
        k.add(
            "fargate_cp",
            "aws.capacity_provider",
            json!({"name": "FargateWorkers", "autoscaling_group": "${crowded.arn}",
                   "managed_scaling": {"target_capacity": 0}}),
        );
        k.add(
            "twin",
            "aws.capacity_provider",
            json!({"autoscaling_group": "${asg.arn}"}),
        );
        k.add(
            "task_role",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com"}),
        );
        k.add(
            "wrong",
            "aws.instance_profile",
            json!({"role": "${task_role.name}"}),
        );
        let d = k.check();
        let mut got: Vec<(&str, String)> =
            d.iter().map(|d| (d.code, k.labels(d)[0].clone())).collect();
        got.sort();
        assert_eq!(
            got,
            [
                (
                    "iac::autoscaling_group::desired_outside_range",
                    "crowded:desired".to_owned()
                ),
                (
                    "iac::autoscaling_group::min_above_max",
                    "small:min".to_owned()
                ),
                (
                    "iac::capacity_provider::invalid_target_capacity",
                    "fargate_cp:managed_scaling.target_capacity".to_owned()
                ),
                (
                    "iac::capacity_provider::reserved_name",
                    "fargate_cp:name".to_owned()
                ),
                (
                    "iac::capacity_provider::shared_group",
                    "twin:autoscaling_group".to_owned()
                ),
                (
                    "iac::capacity_provider::unprotected_group",
                    "cp:managed_termination_protection".to_owned()
                ),
                (
                    "iac::ecs_cluster::several_bases",
                    "cluster:default_strategy[1].base".to_owned()
                ),
                (
                    "iac::ecs_cluster::strategy_provider_not_listed",
                    "cluster:default_strategy[1].capacity_provider".to_owned()
                ),
                (
                    "iac::instance_profile::role_not_for_instances",
                    "wrong:role".to_owned()
                ),
                (
                    "iac::launch_template::ami_not_ecs_optimized",
                    "other:ami_parameter".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_strategy_entry_matches_a_listed_name_through_its_reference() {
        let mut k = kit(true, json!([{"capacity_provider": "FARGATE"}]));
        k.add(
            "asg2",
            "aws.autoscaling_group",
            json!({"launch_template": "${lt.id}", "subnets": ["subnet-1"], "min": 0, "max": 1}),
        );
        k.add(
            "named",
            "aws.capacity_provider",
            json!({"name": "shop-named", "autoscaling_group": "${asg2.arn}"}),
        );
        k.add(
            "x",
            "aws.ecs_cluster",
            json!({"capacity_providers": ["shop-named"],
                   "default_strategy": [{"capacity_provider": "${named.name}"}]}),
        );
        // `x` lists the name `${named.name}` resolves to; `cluster` misses FARGATE.
        let d = k.check();
        let got: Vec<(&str, String)> = d.iter().map(|d| (d.code, k.labels(d)[0].clone())).collect();
        assert_eq!(
            got,
            [(
                "iac::ecs_cluster::strategy_provider_not_listed",
                "cluster:default_strategy[0].capacity_provider".to_owned()
            )]
        );
    }
}
