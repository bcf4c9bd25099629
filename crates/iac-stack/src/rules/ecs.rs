//! ECS on Fargate: task sizes RegisterTaskDefinition refuses, containers that cannot ship
//! their logs, and services whose load balancer wiring CreateService (or the first deployment)
//! rejects, plus a warning for tasks reachable from the internet around their load balancer.
//! How the containers of a task fit together is in `containers.rs`.

use super::{did_you_mean, items, key_span, list_or, list_words, set, written, Ctx};
use crate::diag::Diag;
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// The memory (MiB) Fargate offers with one CPU size.
enum Memory {
    Listed(&'static [i64]),
    Range { min: i64, max: i64, step: i64 },
}

impl Memory {
    fn allows(&self, mem: i64) -> bool {
        match *self {
            Memory::Listed(l) => l.contains(&mem),
            Memory::Range { min, max, step } => {
                (min..=max).contains(&mem) && (mem - min) % step == 0
            }
        }
    }

    /// For a help line: "one of `512`, `1024` or `2048`" or "`4096` to `16384` in steps...".
    fn describe(&self) -> String {
        match *self {
            Memory::Listed(l) => format!("one of {}", list_or(l)),
            Memory::Range { min, max, step } if (max - min) / step <= 6 => {
                let all: Vec<i64> = (min..=max).step_by(step as usize).collect();
                format!("one of {}", list_or(&all))
            }
            Memory::Range { min, max, step } => {
                format!("`{min}` to `{max}` in steps of `{step}`")
            }
        }
    }
}

/// The task sizes Fargate offers (CPU units -> memory), from the ECS developer guide, "Task
/// CPU and memory". 8192 and 16384 need Linux platform version 1.4.0, the default.
const FARGATE: [(i64, Memory); 7] = [
    (256, Memory::Listed(&[512, 1024, 2048])),
    (
        512,
        Memory::Range {
            min: 1024,
            max: 4096,
            step: 1024,
        },
    ),
    (
        1024,
        Memory::Range {
            min: 2048,
            max: 8192,
            step: 1024,
        },
    ),
    (
        2048,
        Memory::Range {
            min: 4096,
            max: 16384,
            step: 1024,
        },
    ),
    (
        4096,
        Memory::Range {
            min: 8192,
            max: 30720,
            step: 1024,
        },
    ),
    (
        8192,
        Memory::Range {
            min: 16384,
            max: 61440,
            step: 4096,
        },
    ),
    (
        16384,
        Memory::Range {
            min: 32768,
            max: 122880,
            step: 8192,
        },
    ),
];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for td in cx.of_type("aws.task_definition") {
        fargate_size(cx, td, diags);
        container_memory(cx, td, diags);
        logs_need_execution_role(cx, td, diags);
    }
    for svc in cx.of_type("aws.ecs_service") {
        load_balancer(cx, svc, diags);
        listener_first(cx, svc, diags);
        deployment(cx, svc, diags);
        open_to_internet(cx, svc, diags);
    }
}

fn fargate_size(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    // On EC2 instances any size the instance has room for will do.
    if super::ec2::fargate_compatible(cx, td) != Some(true) {
        return;
    }
    let (Some(cpu), Some(mem)) = (
        set(td, "cpu").and_then(|v| cx.known_int(v)),
        set(td, "memory").and_then(|v| cx.known_int(v)),
    ) else {
        return;
    };
    let cpus_for_mem: Vec<i64> = FARGATE
        .iter()
        .filter(|(_, m)| m.allows(mem))
        .map(|(c, _)| *c)
        .collect();
    let Some(row) = FARGATE.iter().find(|r| r.0 == cpu) else {
        let all: Vec<i64> = FARGATE.iter().map(|r| r.0).collect();
        diags.push(
            cx.error(
                "iac::task_definition::fargate_size",
                format!(
                    "task definition `{}` asks for `cpu: {cpu}`, which Fargate does not offer",
                    td.name
                ),
            )
            .label(td.span_of("cpu"), "not a Fargate CPU size")
            .help(match cpus_for_mem.as_slice() {
                [] => format!("use one of {}", list_or(&all)),
                some => format!(
                    "use one of {}; with `memory: {mem}`, {} fit{}",
                    list_or(&all),
                    list_words(some),
                    if some.len() == 1 { "s" } else { "" }
                ),
            }),
        );
        return;
    };
    if row.1.allows(mem) {
        return;
    }
    let mut help = format!("with `cpu: {cpu}`, `memory` must be {}", row.1.describe());
    if !cpus_for_mem.is_empty() {
        help.push_str(&format!(
            "; or keep `memory: {mem}` and set `cpu` to {}",
            list_or(&cpus_for_mem)
        ));
    }
    diags.push(
        cx.error(
            "iac::task_definition::fargate_size",
            format!(
                "task definition `{}` asks for `cpu: {cpu}` with `memory: {mem}`, a pair Fargate does not offer",
                td.name
            ),
        )
        .label(td.span_of("memory"), format!("`{mem}` MiB does not go with `{cpu}` CPU units"))
        .label(td.span_of("cpu"), "this CPU size")
        .help(help),
    );
}

/// The memory a container reserves: its soft limit (`memory_reservation`), else its hard
/// limit (`memory`), as ECS counts it against the task.
fn container_memory(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    let Some(task_mem) = set(td, "memory").and_then(|v| cx.known_int(v)) else {
        return;
    };
    let mut total = 0;
    let mut parts: Vec<(String, i64)> = Vec::new();
    for (path, c) in items(td, "containers") {
        let field = ["memory_reservation", "memory"]
            .into_iter()
            .find(|f| c.get(f).is_some_and(|v| !matches!(v, Value::Null)));
        let Some(field) = field else { continue };
        // A reservation known only after apply makes the sum unknowable: skip the rule.
        let Some(m) = c.get(field).and_then(|v| cx.known_int(v)) else {
            return;
        };
        total += m;
        parts.push((format!("{path}.{field}"), m));
    }
    if parts.is_empty() || total <= task_mem {
        return;
    }
    let mut d = cx
        .error(
            "iac::task_definition::container_memory_exceeds_task",
            format!(
                "the containers of task definition `{}` reserve `{total}` MiB, more than the task's `memory: {task_mem}`",
                td.name
            ),
        )
        .label(td.span_of("memory"), format!("the task has `{task_mem}` MiB"));
    for (path, m) in &parts {
        d = d.label(td.span_of(path), format!("`{m}` MiB"));
    }
    diags.push(d.help(format!(
        "lower the containers' reservations to `{task_mem}` MiB in total, or raise the task's `memory` (keeping a Fargate size)"
    )));
}

fn logs_need_execution_role(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    if set(td, "execution_role").is_some() {
        return;
    }
    for (path, c) in items(td, "containers") {
        // `log_group`, or its long form with the awslogs driver.
        let awslogs = c
            .get("log_configuration")
            .and_then(|l| l.get("driver"))
            .and_then(|d| cx.known_str(d))
            == Some("awslogs");
        let at = if c
            .get("log_group")
            .is_some_and(|v| !matches!(v, Value::Null))
        {
            format!("{path}.log_group")
        } else if awslogs {
            format!("{path}.log_configuration.driver")
        } else {
            continue;
        };
        let name = c.get("name").and_then(|n| cx.known_str(n)).unwrap_or("?");
        diags.push(
            cx.error(
                "iac::task_definition::logs_need_execution_role",
                format!(
                    "container `{name}` of task definition `{}` logs to a log group, but the task definition has no `execution_role`",
                    td.name
                ),
            )
            .label(td.span_of(&at), "ECS needs an execution role to write these logs")
            .label(td.spans.name, "no `execution_role` here")
            .help("add `execution_role: ${exec_role.arn}` with an `aws.iam_role` assumed by `ecs-tasks.amazonaws.com` that has the `AmazonECSTaskExecutionRolePolicy` managed policy"),
        );
        // One diagnostic per task definition: the fix is the same for every container.
        return;
    }
}

fn load_balancer(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    if set(svc, "load_balancer").is_none() {
        return;
    }
    // Bridge and host tasks register by instance: `ec2.rs` checks those.
    let awsvpc = set(svc, "task_definition")
        .and_then(|v| cx.target(v, "aws.task_definition"))
        .is_none_or(|td| super::ec2::network_mode(cx, td) == Some("awsvpc"));
    if let Some(tg) = set(svc, "load_balancer.target_group")
        .and_then(|v| cx.target(v, "aws.target_group"))
        .filter(|_| awsvpc)
    {
        let tt = set(tg, "target_type").map_or(Some("ip"), |v| cx.known_str(v));
        if let Some(tt) = tt.filter(|t| *t != "ip") {
            diags.push(
                cx.error(
                    "iac::service::target_type_not_ip",
                    format!(
                        "service `{}` registers awsvpc tasks in target group `{}`, whose `target_type` is `{tt}`",
                        svc.name, tg.name
                    ),
                )
                .label(svc.span_of("load_balancer.target_group"), "awsvpc tasks register by IP address")
                .label(tg.span_of("target_type"), format!("`{tt}` targets"))
                .help(format!("set `target_type: ip` on `{}`", tg.name)),
            );
        }
    }

    let Some(td) = set(svc, "task_definition").and_then(|v| cx.target(v, "aws.task_definition"))
    else {
        return;
    };
    let Some(want) = set(svc, "load_balancer.container").and_then(|v| cx.known_str(v)) else {
        return;
    };
    let containers = items(td, "containers");
    let mut names: Vec<&str> = Vec::new();
    for (_, c) in &containers {
        // A container whose name is only known after apply might be the one: skip.
        let Some(n) = c.get("name").and_then(|n| cx.known_str(n)) else {
            return;
        };
        names.push(n);
    }
    let Some(pos) = names.iter().position(|n| *n == want) else {
        let help = match did_you_mean(want, &names) {
            Some(n) => format!("did you mean `{n}`?"),
            None if names.is_empty() => format!("add a container named `{want}` to `{}`", td.name),
            None if names.len() == 1 => format!("use `{}`", names[0]),
            None => format!("use one of {}", list_or(&names)),
        };
        diags.push(
            cx.error(
                "iac::service::unknown_container",
                format!(
                    "service `{}` sends load balancer traffic to container `{want}`, but task definition `{}` has no such container",
                    svc.name, td.name
                ),
            )
            .label(svc.span_of("load_balancer.container"), "no container of this name")
            .label(key_span(td, "containers"), format!("containers of `{}`", td.name))
            .help(help),
        );
        return;
    };
    let Some(port) = set(svc, "load_balancer.port").and_then(|v| cx.known_int(v)) else {
        return;
    };
    let (cpath, c) = &containers[pos];
    let field = |k: &str| c.get(k).filter(|v| !matches!(v, Value::Null));
    // The ports the container exposes: `port`, or each of `port_mappings` (long form).
    let mut exposed: Vec<(String, Option<i64>)> = Vec::new();
    if let Some(v) = field("port") {
        exposed.push((format!("{cpath}.port"), cx.known_int(v)));
    }
    for (i, m) in field("port_mappings")
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = m.get("port").and_then(|v| cx.known_int(v));
        exposed.push((format!("{cpath}.port_mappings[{i}].port"), p));
    }
    // A port known only after apply might be the one: skip.
    if exposed.iter().any(|(_, p)| p.is_none() || *p == Some(port)) {
        return;
    }
    let mismatch = |d: Diag| d.label(svc.span_of("load_balancer.port"), format!("port `{port}`"));
    match exposed.as_slice() {
        [] => diags.push(
            mismatch(cx.error(
                "iac::service::container_port_mismatch",
                format!(
                    "service `{}` sends load balancer traffic to port `{port}` of container `{want}`, which exposes no port",
                    svc.name
                ),
            ))
            .label(td.span_of(cpath), format!("container `{want}` has no `port`"))
            .help(format!("add `port: {port}` to container `{want}` of `{}`", td.name)),
        ),
        [(path, Some(cport))] if path.ends_with(".port") && !path.contains("port_mappings") => diags.push(
            mismatch(cx.error(
                "iac::service::container_port_mismatch",
                format!(
                    "service `{}` sends load balancer traffic to port `{port}` of container `{want}`, which listens on `{cport}`",
                    svc.name
                ),
            ))
            .label(td.span_of(path), format!("container `{want}` exposes `{cport}`"))
            .help(format!("set `load_balancer.port: {cport}`, or change the container's `port`")),
        ),
        _ => {
            let ports: Vec<i64> = exposed.iter().filter_map(|(_, p)| *p).collect();
            let mut d = mismatch(cx.error(
                "iac::service::container_port_mismatch",
                format!(
                    "service `{}` sends load balancer traffic to port `{port}` of container `{want}`, which listens on {}",
                    svc.name,
                    list_words(&ports)
                ),
            ));
            for (path, p) in &exposed {
                d = d.label(td.span_of(path), format!("`{}`", p.unwrap_or_default()));
            }
            diags.push(d.help(format!(
                "set `load_balancer.port` to one of {}, or add `{{port: {port}}}` to the container's `port_mappings`",
                list_or(&ports)
            )));
        }
    }
}

/// ECS refuses a service whose target group no load balancer uses yet ("The target group
/// ... does not have an associated load balancer"). The stack must have a listener forwarding to
/// the target group; the service is then created after it without a `depends_on`: the loader
/// adds that ordering itself (`crate::implied`).
fn listener_first(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    let Some(tg_ref) = set(svc, "load_balancer.target_group") else {
        return;
    };
    let Some(tg) = cx.target(tg_ref, "aws.target_group") else {
        return;
    };
    if !cx.listeners_forwarding_to(&tg.name).is_empty() {
        return;
    }
    diags.push(
        cx.error(
            "iac::service::target_group_not_attached",
            format!(
                "service `{}` registers in target group `{}`, but no listener forwards to it",
                svc.name, tg.name
            ),
        )
        .label(
            svc.span_of("load_balancer.target_group"),
            "no load balancer sends traffic here",
        )
        .label(
            tg.spans.name,
            format!("`{}` is not used by any listener", tg.name),
        )
        .help(format!(
            "add an `aws.listener` with `forward: ${{{}.arn}}` on the load balancer",
            tg.name
        )),
    );
}

fn deployment(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    if let Some(n) = set(svc, "desired_count").and_then(|v| cx.known_int(v)) {
        if n < 0 {
            diags.push(
                cx.error(
                    "iac::service::negative_desired_count",
                    format!("service `{}` has `desired_count: {n}`", svc.name),
                )
                .label(
                    svc.span_of("desired_count"),
                    "a count of tasks cannot be negative",
                )
                .help("use `0` to stop every task, or a positive number of tasks"),
            );
        }
    }
    let min_v = set(svc, "deployment.min_healthy_percent");
    let max_v = set(svc, "deployment.max_percent");
    if min_v.is_none() && max_v.is_none() {
        return;
    }
    let min = min_v.map_or(Some(100), |v| cx.known_int(v));
    let max = max_v.map_or(Some(200), |v| cx.known_int(v));
    let (Some(min), Some(max)) = (min, max) else {
        return;
    };
    if min <= max {
        return;
    }
    let label_min = if written(svc, "deployment.min_healthy_percent") {
        format!("at least {min}% must stay healthy...")
    } else {
        format!("at least {min}% must stay healthy (the default)...")
    };
    diags.push(
        cx.error(
            "iac::service::min_healthy_above_max",
            format!(
                "service `{}` has `min_healthy_percent: {min}` above `max_percent: {max}`",
                svc.name
            ),
        )
        .label(svc.span_of("deployment.min_healthy_percent"), label_min)
        .label(svc.span_of("deployment.max_percent"), format!("...but at most {max}% may run"))
        .help("keep `min_healthy_percent` at or below `max_percent`, e.g. `min_healthy_percent: 100` with `max_percent: 200`"),
    );
}

fn open_to_internet(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    if set(svc, "load_balancer").is_none() {
        return;
    }
    for (path, v) in items(svc, "security_groups") {
        let Some(sg) = cx.target(v, "aws.security_group") else {
            continue;
        };
        for (rpath, rule) in items(sg, "ingress") {
            let Some(cidr) = rule.get("cidr").and_then(|c| cx.known_str(c)) else {
                continue;
            };
            if !matches!(cidr.trim(), "0.0.0.0/0" | "::/0") {
                continue;
            }
            let lb_sg = load_balancer_sg(cx, svc).unwrap_or("lb_sg");
            diags.push(
                cx.warning(
                    "iac::service::open_to_internet",
                    format!(
                        "service `{}` sits behind a load balancer, but its security group `{}` accepts traffic from anywhere (`{cidr}`)",
                        svc.name, sg.name
                    ),
                )
                .label(svc.span_of(&path), "the tasks' security group")
                .label(sg.span_of(&format!("{rpath}.cidr")), "open to the internet")
                .help(format!("let the tasks accept traffic only from the load balancer: replace `cidr` with `source: ${{{lb_sg}.id}}`, the load balancer's security group")),
            );
            return;
        }
    }
}

/// The security group of the load balancer in front of a service, found through its target
/// group and a listener forwarding to it, for the help line.
fn load_balancer_sg<'a>(cx: &Ctx<'a>, svc: &'a Resource) -> Option<&'a str> {
    let tg = set(svc, "load_balancer.target_group")?
        .references()
        .first()?
        .resource
        .clone();
    let lb = cx
        .listeners_forwarding_to(&tg)
        .iter()
        .find_map(|l| set(l, "load_balancer").and_then(|v| cx.target(v, "aws.load_balancer")))?;
    items(lb, "security_groups")
        .into_iter()
        .find_map(|(_, v)| cx.target(v, "aws.security_group"))
        .map(|sg| sg.name.as_str())
}

#[cfg(test)]
mod tests;
