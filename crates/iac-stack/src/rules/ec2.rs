//! ECS on EC2 instances and service discovery: what RegisterTaskDefinition and
//! CreateService refuse about network modes, host ports, launch types and capacity provider
//! strategies, daemon services and Cloud Map registries (and what the emulator accepts).
//! The Fargate task sizes are in `ecs.rs`.

use super::{items, key_span, set, written, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// A task definition's `network_mode` when known (`awsvpc` by default).
pub(crate) fn network_mode<'a>(cx: &Ctx<'a>, td: &'a Resource) -> Option<&'a str> {
    match set(td, "network_mode") {
        None => Some("awsvpc"),
        Some(v) => cx.known_str(v),
    }
}

/// Whether the task definition may run on Fargate: `requires_compatibilities` omitted (it
/// means `[FARGATE]`) or naming it. `None` when a value is known only at apply.
pub(crate) fn fargate_compatible(cx: &Ctx, td: &Resource) -> Option<bool> {
    let list = items(td, "requires_compatibilities");
    if list.is_empty() {
        return Some(true);
    }
    let mut any = false;
    for (_, v) in list {
        any |= cx.known_str(v)? == "FARGATE";
    }
    Some(any)
}

/// Where a service's tasks run, as far as the stack says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    Fargate,
    Ec2,
    /// A strategy mixing Fargate and EC2 providers, or a value known only at apply.
    Unknown,
}

fn runs_on(cx: &Ctx, svc: &Resource) -> Runs {
    if let Some(v) = set(svc, "launch_type") {
        return match cx.known_str(v) {
            Some("FARGATE") => Runs::Fargate,
            Some("EC2") => Runs::Ec2,
            _ => Runs::Unknown,
        };
    }
    let strategy = items(svc, "capacity_provider_strategy");
    if strategy.is_empty() {
        return Runs::Fargate;
    }
    let mut fargate = 0;
    for (_, item) in &strategy {
        match item.get("capacity_provider").and_then(|v| cx.known_str(v)) {
            Some(p) if p.starts_with("FARGATE") => fargate += 1,
            Some(_) => {}
            None => return Runs::Unknown,
        }
    }
    match fargate {
        0 => Runs::Ec2,
        n if n == strategy.len() => Runs::Fargate,
        _ => Runs::Unknown,
    }
}

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for td in cx.of_type("aws.task_definition") {
        fargate_task(cx, td, diags);
        host_ports(cx, td, diags);
    }
    for svc in cx.of_type("aws.ecs_service") {
        capacity(cx, svc, diags);
        scheduling(cx, svc, diags);
        placement_on_fargate(cx, svc, diags);
        let td = set(svc, "task_definition").and_then(|v| cx.target(v, "aws.task_definition"));
        let Some(td) = td else { continue };
        let Some(mode) = network_mode(cx, td) else {
            continue;
        };
        service_network(cx, svc, td, mode, diags);
        target_type(cx, svc, td, mode, diags);
        service_launch(cx, svc, td, mode, diags);
        discovery(cx, svc, td, mode, diags);
    }
}

/// A Fargate-compatible task definition needs `cpu` and `memory`, and awsvpc networking.
fn fargate_task(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    if fargate_compatible(cx, td) != Some(true) {
        return;
    }
    let missing: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|p| set(td, p).is_none())
        .collect();
    if !missing.is_empty() {
        diags.push(
            cx.error(
                "iac::task_definition::fargate_needs_size",
                format!(
                    "task definition `{}` may run on Fargate but has no {}",
                    td.name,
                    missing
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )
            .label(td.spans.name, "Fargate needs the task's size")
            .help("set `cpu` and `memory` (e.g. `cpu: 256`, `memory: 512`), or `requires_compatibilities: [EC2]` to run it only on EC2 instances"),
        );
    }
    if set(td, "placement_constraints").is_some() {
        diags.push(
            cx.error(
                "iac::task_definition::fargate_placement",
                format!(
                    "task definition `{}` may run on Fargate but has `placement_constraints`",
                    td.name
                ),
            )
            .label(
                key_span(td, "placement_constraints"),
                "Fargate has no instances to choose",
            )
            .help("set `requires_compatibilities: [EC2]`, or remove `placement_constraints`"),
        );
    }
    if let Some(mode) = set(td, "network_mode").and_then(|v| cx.known_str(v)) {
        if mode != "awsvpc" {
            diags.push(
                cx.error(
                    "iac::task_definition::fargate_network_mode",
                    format!(
                        "task definition `{}` may run on Fargate but has `network_mode: {mode}`",
                        td.name
                    ),
                )
                .label(td.span_of("network_mode"), "Fargate has only `awsvpc` networking")
                .help(format!("set `requires_compatibilities: [EC2]` to run it on EC2 instances in `{mode}` mode, or use `network_mode: awsvpc`")),
            );
        }
    }
}

/// One port mapping: the container port's path and value, and the host port's when given.
type Mapping = (String, Option<i64>, Option<(String, i64)>);

/// With bridge and host networking, no two mappings of one task may take the same host
/// port of the instance (the second container could not start, and ECS refuses the
/// definition).
fn host_ports(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    let Some(mode) = network_mode(cx, td) else {
        return;
    };
    let mut taken: std::collections::HashMap<i64, String> = Default::default();
    for (cpath, c) in items(td, "containers") {
        let mut ports: Vec<Mapping> = Vec::new();
        if let Some(v) = c.get("port").filter(|v| !matches!(v, Value::Null)) {
            ports.push((format!("{cpath}.port"), cx.known_int(v), None));
        }
        for (i, m) in c
            .get("port_mappings")
            .and_then(Value::as_list)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = format!("{cpath}.port_mappings[{i}]");
            let port = m.get("port").and_then(|v| cx.known_int(v));
            let host = m
                .get("host_port")
                .filter(|v| !matches!(v, Value::Null))
                .and_then(|v| cx.known_int(v))
                .map(|h| (format!("{path}.host_port"), h));
            ports.push((format!("{path}.port"), port, host));
        }
        // A host port other than the container port with awsvpc or host networking is
        // `iac::task_definition::host_port_mismatch` (containers.rs).
        for (path, port, host) in ports {
            if mode == "awsvpc" {
                continue;
            }
            // The port taken on the instance: the host port (0 or none in bridge mode: a
            // dynamic one, never a collision), the container port in host mode.
            let on_host = match (mode, &host) {
                ("host", _) => port,
                (_, Some((_, h))) if *h != 0 => Some(*h),
                _ => None,
            };
            let Some(p) = on_host else { continue };
            let at = host.map_or(path, |(hp, _)| hp);
            if let Some(first) = taken.get(&p) {
                diags.push(
                    cx.error(
                        "iac::task_definition::host_port_collision",
                        format!(
                            "task definition `{}` takes host port `{p}` twice: one instance cannot give it to both",
                            td.name
                        ),
                    )
                    .label(td.span_of(&at), format!("host port `{p}` again"))
                    .label(td.span_of(first), "taken here first")
                    .help(if mode == "bridge" {
                        "give each mapping its own `host_port`, or `host_port: 0` for a dynamic one".to_owned()
                    } else {
                        "with `host` networking every container port is a port of the instance: use different ports, or `network_mode: bridge` with dynamic host ports".to_owned()
                    }),
                );
            } else {
                taken.insert(p, at);
            }
        }
    }
}

/// `launch_type` and `capacity_provider_strategy` exclude each other.
fn capacity(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    if set(svc, "launch_type").is_some() && !items(svc, "capacity_provider_strategy").is_empty() {
        diags.push(
            cx.error(
                "iac::service::launch_type_and_strategy",
                format!(
                    "service `{}` has both `launch_type` and `capacity_provider_strategy`",
                    svc.name
                ),
            )
            .label(svc.span_of("launch_type"), "a launch type...")
            .label(key_span(svc, "capacity_provider_strategy"), "...and a strategy")
            .help("keep one: the strategy (e.g. an EC2 capacity provider with `FARGATE_SPOT`), or `launch_type` alone"),
        );
    }
}

/// Fargate places tasks itself: CreateService refuses placement strategies and constraints
/// for a service that runs on it.
fn placement_on_fargate(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    if runs_on(cx, svc) != Runs::Fargate {
        return;
    }
    for prop in ["placement_strategy", "placement_constraints"] {
        if items(svc, prop).is_empty() {
            continue;
        }
        diags.push(
            cx.error(
                "iac::service::placement_on_fargate",
                format!("service `{}` runs on Fargate but has `{prop}`", svc.name),
            )
            .label(key_span(svc, prop), "Fargate places its tasks itself")
            .help("remove it, or run the service on EC2 (`launch_type: EC2` or an EC2 capacity provider strategy)"),
        );
    }
}

/// `DAEMON` runs one task per instance: no desired count, no scaling, EC2 only; `REPLICA`
/// needs a desired count.
fn scheduling(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    let daemon = set(svc, "scheduling_strategy").and_then(|v| cx.known_str(v)) == Some("DAEMON");
    if !daemon {
        if set(svc, "desired_count").is_none() && !svc.existing {
            diags.push(
                cx.error(
                    "iac::service::desired_count_required",
                    format!("service `{}` keeps replicas but has no `desired_count`", svc.name),
                )
                .label(svc.spans.name, "how many tasks?")
                .help("set `desired_count`, or `scheduling_strategy: DAEMON` for one task per instance"),
            );
        }
        return;
    }
    for prop in ["desired_count", "scaling"] {
        if set(svc, prop).is_some() {
            diags.push(
                cx.error(
                    "iac::service::daemon_with_count",
                    format!("daemon service `{}` has `{prop}`", svc.name),
                )
                .label(key_span(svc, prop), "a daemon runs one task per instance")
                .label(svc.span_of("scheduling_strategy"), "`DAEMON` here")
                .help(format!(
                    "remove `{prop}`: the cluster's instances decide the count"
                )),
            );
        }
    }
    if runs_on(cx, svc) == Runs::Fargate {
        diags.push(
            cx.error(
                "iac::service::daemon_on_fargate",
                format!("daemon service `{}` would run on Fargate", svc.name),
            )
            .label(
                svc.span_of("scheduling_strategy"),
                "one task per EC2 instance",
            )
            .help("set `launch_type: EC2` (or a strategy of EC2 capacity providers)"),
        );
    }
}

/// awsvpc needs subnets; bridge and host networking take no network configuration.
fn service_network(cx: &Ctx, svc: &Resource, td: &Resource, mode: &str, diags: &mut Diagnostics) {
    if mode == "awsvpc" {
        // Absent or an empty list; a whole list from a reference (another stack's output) is
        // known only at apply.
        let none = match set(svc, "subnets") {
            None => true,
            Some(Value::List(l)) => l.is_empty(),
            Some(_) => false,
        };
        if none {
            diags.push(
                cx.error(
                    "iac::service::subnets_required",
                    format!(
                        "service `{}` runs task definition `{}` (awsvpc networking) but has no `subnets`",
                        svc.name, td.name
                    ),
                )
                .label(svc.spans.name, "where do its tasks' interfaces go?")
                .help("set `subnets` (and `security_groups`)"),
            );
        }
        return;
    }
    let public = set(svc, "assign_public_ip").and_then(|v| cx.known(v)) == Some(&Value::Bool(true));
    for prop in ["subnets", "security_groups", "assign_public_ip"] {
        let given = match prop {
            "assign_public_ip" => public,
            _ => !items(svc, prop).is_empty(),
        };
        if given {
            diags.push(
                cx.error(
                    "iac::service::network_config_not_awsvpc",
                    format!(
                        "service `{}` sets `{prop}`, but task definition `{}` uses `{mode}` networking",
                        svc.name, td.name
                    ),
                )
                .label(key_span(svc, prop), "only for awsvpc networking")
                .label(td.span_of("network_mode"), format!("`{mode}`"))
                .help(format!("remove `{prop}`: the tasks use their instance's network (its subnet and security groups come from the launch template)")),
            );
        }
    }
}

/// Bridge and host tasks register by instance and port; awsvpc ones by IP (that case is
/// `iac::service::target_type_not_ip`, in `ecs.rs`).
fn target_type(cx: &Ctx, svc: &Resource, td: &Resource, mode: &str, diags: &mut Diagnostics) {
    if mode == "awsvpc" {
        return;
    }
    let Some(tg) =
        set(svc, "load_balancer.target_group").and_then(|v| cx.target(v, "aws.target_group"))
    else {
        return;
    };
    let tt = set(tg, "target_type").map_or(Some("ip"), |v| cx.known_str(v));
    if tt == Some("ip") {
        diags.push(
            cx.error(
                "iac::service::target_type_not_instance",
                format!(
                    "service `{}` runs `{mode}` tasks but registers them in target group `{}`, whose `target_type` is `ip`",
                    svc.name, tg.name
                ),
            )
            .label(svc.span_of("load_balancer.target_group"), format!("`{mode}` tasks register by instance and port"))
            .label(key_span(tg, "target_type"), "`ip` targets")
            .label(td.span_of("network_mode"), format!("`{mode}` networking"))
            .help(format!("set `target_type: instance` on `{}`", tg.name)),
        );
    }
}

/// A service on Fargate runs only a Fargate-compatible, awsvpc task definition; one on EC2
/// only a task definition compatible with EC2.
fn service_launch(cx: &Ctx, svc: &Resource, td: &Resource, mode: &str, diags: &mut Diagnostics) {
    let why = match runs_on(cx, svc) {
        Runs::Fargate if mode != "awsvpc" => format!("uses `{mode}` networking"),
        Runs::Fargate if fargate_compatible(cx, td) == Some(false) => {
            "is not compatible with Fargate (`requires_compatibilities`)".to_owned()
        }
        Runs::Ec2 if !ec2_compatible(cx, td) => {
            "is compatible with Fargate only (`requires_compatibilities`)".to_owned()
        }
        _ => return,
    };
    let on = if runs_on(cx, svc) == Runs::Fargate {
        "Fargate"
    } else {
        "EC2"
    };
    let at = if written(svc, "launch_type") {
        svc.span_of("launch_type")
    } else if set(svc, "capacity_provider_strategy").is_some() {
        key_span(svc, "capacity_provider_strategy")
    } else {
        svc.spans.name
    };
    diags.push(
        cx.error(
            "iac::service::launch_type_incompatible",
            format!(
                "service `{}` runs on {on}, but task definition `{}` {why}",
                svc.name, td.name
            ),
        )
        .label(at, format!("runs on {on}"))
        .label(td.spans.name, why)
        .help(if on == "Fargate" {
            "set `launch_type: EC2` (or an EC2 capacity provider strategy) on the service; without either it runs on Fargate"
        } else {
            "add `EC2` to the task definition's `requires_compatibilities`"
        }),
    );
}

fn ec2_compatible(cx: &Ctx, td: &Resource) -> bool {
    items(td, "requires_compatibilities")
        .iter()
        .any(|(_, v)| cx.known_str(v).is_none_or(|s| s == "EC2"))
}

/// A records need awsvpc; SRV records need a container and port; the namespace is in the
/// service's VPC.
fn discovery(cx: &Ctx, svc: &Resource, td: &Resource, mode: &str, diags: &mut Diagnostics) {
    let Some(d) = set(svc, "discovery") else {
        return;
    };
    let dns_type = d
        .get("dns_type")
        .and_then(|v| cx.known_str(v))
        .unwrap_or("A");
    if mode != "awsvpc" && dns_type == "A" {
        diags.push(
            cx.error(
                "iac::service::discovery_a_record",
                format!(
                    "service `{}` asks for A records, but its `{mode}` tasks have no address of their own",
                    svc.name
                ),
            )
            .label(
                if written(svc, "discovery.dns_type") { svc.span_of("discovery.dns_type") } else { key_span(svc, "discovery") },
                "A records (the default)",
            )
            .label(td.span_of("network_mode"), format!("`{mode}` networking"))
            .help("set `discovery.dns_type: SRV` (address and port of each task), or use `network_mode: awsvpc`"),
        );
    }
    if mode != "awsvpc" && dns_type == "SRV" {
        let has = |k: &str, lb: &str| {
            set(svc, &format!("discovery.{k}")).is_some() || set(svc, lb).is_some()
        };
        if !has("container", "load_balancer.container") || !has("port", "load_balancer.port") {
            diags.push(
                cx.error(
                    "iac::service::discovery_srv_port",
                    format!(
                        "service `{}` asks for SRV records but names no container port for them",
                        svc.name
                    ),
                )
                .label(key_span(svc, "discovery"), "which container's port?")
                .help("set `discovery.container` and `discovery.port` (or give the service a `load_balancer`, whose container and port are used)"),
            );
        }
    }
    // The namespace's VPC and the VPC of the service's subnets, when both are known.
    let Some(ns) = d
        .get("namespace")
        .and_then(|v| cx.target(v, "aws.service_discovery_namespace"))
    else {
        return;
    };
    let Some(ns_vpc) = set(ns, "vpc").and_then(|v| vpc_of(cx, v)) else {
        return;
    };
    // Awsvpc tasks are in the service's subnets; bridge and host tasks on the instances of
    // the Auto Scaling groups behind its capacity providers.
    let own = items(svc, "subnets");
    let sources: Vec<(&Resource, String, &Value)> = if set(svc, "subnets").is_none() {
        instance_subnets(cx, svc)
    } else {
        own.into_iter().map(|(p, s)| (svc, p, s)).collect()
    };
    for (holder, path, s) in sources {
        let Some(subnet) = cx.target(s, "aws.subnet") else {
            continue;
        };
        let Some(vpc) = set(subnet, "vpc").and_then(|v| vpc_of(cx, v)) else {
            continue;
        };
        if vpc != ns_vpc {
            let on = if holder.name == svc.name {
                String::new()
            } else {
                format!(" (the instances of group `{}`)", holder.name)
            };
            diags.push(
                cx.error(
                    "iac::service::discovery_other_vpc",
                    format!(
                        "service `{}` registers in namespace `{}` of VPC `{ns_vpc}`, but its tasks are in subnet `{}` of VPC `{vpc}`{on}",
                        svc.name, ns.name, subnet.name
                    ),
                )
                .label(svc.span_of("discovery.namespace"), format!("resolvable only in `{ns_vpc}`"))
                .label(holder.span_of(&path), format!("in `{vpc}`"))
                .label(ns.span_of("vpc"), "the namespace's VPC")
                .help("use a namespace in the tasks' VPC, or subnets of the namespace's VPC"),
            );
            return;
        }
    }
}

/// The subnets the instances a service without subnets of its own runs on: those of the
/// Auto Scaling groups behind the capacity providers of its strategy, or of its cluster's
/// `capacity_providers` when it has none, as `(group, path, subnet)`.
fn instance_subnets<'a>(cx: &Ctx<'a>, svc: &'a Resource) -> Vec<(&'a Resource, String, &'a Value)> {
    let mut providers: Vec<&Value> = items(svc, "capacity_provider_strategy")
        .into_iter()
        .filter_map(|(_, e)| e.get("capacity_provider"))
        .collect();
    if providers.is_empty() {
        if let Some(cluster) = set(svc, "cluster").and_then(|v| cx.target(v, "aws.ecs_cluster")) {
            providers = items(cluster, "capacity_providers")
                .into_iter()
                .map(|(_, v)| v)
                .collect();
        }
    }
    providers
        .into_iter()
        .filter_map(|v| cx.target(v, "aws.capacity_provider"))
        .filter_map(|cp| {
            set(cp, "autoscaling_group").and_then(|v| cx.target(v, "aws.autoscaling_group"))
        })
        .flat_map(|g| items(g, "subnets").into_iter().map(move |(p, s)| (g, p, s)))
        .collect()
}

/// What names a VPC: the resource a reference points at, or a known id.
fn vpc_of<'a>(cx: &Ctx<'a>, v: &'a Value) -> Option<&'a str> {
    match v {
        Value::Ref(r) if cx.target(v, "aws.vpc").is_some() => Some(r.resource.as_str()),
        other => cx.known_str(other),
    }
}

#[cfg(test)]
mod tests;
