//! The containers of a task definition and how they fit together: what RegisterTaskDefinition
//! (or the first task) refuses about their names, dependencies, CPU, mounts, log routing and
//! the short and long forms of their ports and logs. The values ECS and Fargate accept for
//! single settings are in `containers/settings.rs`; the task's size, memory and the service's
//! wiring in `ecs.rs`.

use std::collections::HashMap;

use super::{did_you_mean, items, key_span, list_or, set, written, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// One container of a task definition: its path (`containers[1]`), value and name, when the
/// name is known before apply.
struct Container<'a> {
    path: String,
    value: &'a Value,
    name: Option<&'a str>,
}

impl<'a> Container<'a> {
    /// A field that is set (present and not `null`).
    fn field(&self, key: &str) -> Option<&'a Value> {
        self.value.get(key).filter(|v| !matches!(v, Value::Null))
    }

    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The name for messages: the container's, or its path when only apply knows it.
    fn label(&self) -> String {
        self.name.map_or_else(|| self.path.clone(), str::to_owned)
    }

    /// `essential` (default true) when known.
    fn essential(&self, cx: &Ctx<'a>) -> Option<bool> {
        match self.field("essential") {
            None => Some(true),
            Some(v) => cx.known(v).and_then(Value::as_bool),
        }
    }
}

/// The objects of the list at `key` of a container, with their paths.
fn entries<'a>(c: &Container<'a>, key: &str) -> Vec<(String, &'a Value)> {
    c.field(key)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .enumerate()
                .map(|(i, v)| (format!("{}.{key}[{i}]", c.path), v))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for td in cx.of_type("aws.task_definition") {
        let containers: Vec<Container> = items(td, "containers")
            .into_iter()
            .map(|(path, value)| Container {
                name: value.get("name").and_then(|n| cx.known_str(n)),
                path,
                value,
            })
            .collect();
        duplicate_names(cx, td, &containers, diags);
        no_essential(cx, td, &containers, diags);
        dependencies(cx, td, &containers, diags);
        container_cpu(cx, td, &containers, diags);
        volumes(cx, td, &containers, diags);
        log_routers(cx, td, &containers, diags);
        short_and_long_forms(cx, td, &containers, diags);
        settings::efs(cx, td, diags);
        settings::ranges(cx, td, &containers, diags);
        settings::fargate_only(cx, td, &containers, diags);
    }
}

/// Two containers (or two volumes) of one task definition with the same name.
fn duplicate_names(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for c in containers {
        let Some(name) = c.name else { continue };
        if let Some(first) = seen.insert(name, &c.path) {
            diags.push(
                cx.error(
                    "iac::task_definition::duplicate_name",
                    format!(
                        "task definition `{}` has two containers named `{name}`",
                        td.name
                    ),
                )
                .label(td.span_of(&c.at("name")), "the second")
                .label(td.span_of(&format!("{first}.name")), "the first")
                .help("container names are unique in a task: rename one"),
            );
        }
    }
    let mut seen: HashMap<&str, String> = HashMap::new();
    for (path, v) in items(td, "volumes") {
        let Some(name) = v.get("name").and_then(|n| cx.known_str(n)) else {
            continue;
        };
        if let Some(first) = seen.insert(name, path.clone()) {
            diags.push(
                cx.error(
                    "iac::task_definition::duplicate_name",
                    format!(
                        "task definition `{}` has two volumes named `{name}`",
                        td.name
                    ),
                )
                .label(td.span_of(&format!("{path}.name")), "the second")
                .label(td.span_of(&format!("{first}.name")), "the first")
                .help(
                    "volume names are unique in a task: rename one, or mount the first one twice",
                ),
            );
        }
    }
}

/// Every container `essential: false`: ECS requires at least one essential container.
fn no_essential(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    if containers.is_empty() || containers.iter().any(|c| c.essential(cx) != Some(false)) {
        return;
    }
    let mut d = cx
        .error(
            "iac::task_definition::no_essential_container",
            format!("no container of task definition `{}` is essential", td.name),
        )
        .label(
            key_span(td, "containers"),
            "a task needs at least one essential container",
        );
    for c in containers {
        d = d.label(td.span_of(&c.at("essential")), "not essential");
    }
    diags.push(d.help(
        "remove `essential: false` from the container the task exists for (`essential` defaults to `true`)",
    ));
}

/// `depends_on` and `volumes_from` name containers of the same task, not the container
/// itself; `HEALTHY` needs a health check, `COMPLETE` and `SUCCESS` a non-essential container.
fn dependencies(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    // A container whose name only apply knows might be the one named: skip.
    if containers.iter().any(|c| c.name.is_none()) {
        return;
    }
    let names: Vec<&str> = containers.iter().filter_map(|c| c.name).collect();
    for c in containers {
        let refs = entries(c, "depends_on")
            .into_iter()
            .map(|e| ("depends_on", e))
            .chain(
                entries(c, "volumes_from")
                    .into_iter()
                    .map(|e| ("volumes_from", e)),
            );
        for (key, (path, entry)) in refs {
            let Some(target) = entry.get("container").and_then(|n| cx.known_str(n)) else {
                continue;
            };
            let at = format!("{path}.container");
            let me = c.label();
            if Some(target) == c.name {
                diags.push(
                    cx.error(
                        "iac::task_definition::self_dependency",
                        format!(
                            "container `{me}` of task definition `{}` names itself in `{key}`",
                            td.name
                        ),
                    )
                    .label(td.span_of(&at), "the container itself")
                    .help(format!(
                        "name another container of the task, or remove the entry from `{key}`"
                    )),
                );
                continue;
            }
            let Some(dep) = containers.iter().find(|d| d.name == Some(target)) else {
                let others: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| Some(*n) != c.name)
                    .collect();
                let help = match did_you_mean(target, &others) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None if others.is_empty() => format!(
                        "`{me}` is the only container of `{}`: add the container it needs, or remove `{key}`",
                        td.name
                    ),
                    None => format!("name one of {}", list_or(&others)),
                };
                diags.push(
                    cx.error(
                        "iac::task_definition::unknown_container",
                        format!(
                            "container `{me}` of task definition `{}` names container `{target}` in `{key}`, but the task has no such container",
                            td.name
                        ),
                    )
                    .label(td.span_of(&at), "no container of this name")
                    .label(key_span(td, "containers"), format!("containers of `{}`", td.name))
                    .help(help),
                );
                continue;
            };
            if key != "depends_on" {
                continue;
            }
            let cond = entry.get("condition").and_then(|v| cx.known_str(v));
            match cond {
                Some("HEALTHY") if dep.field("health_check").is_none() => diags.push(
                    cx.error(
                        "iac::task_definition::healthy_without_health_check",
                        format!(
                            "container `{me}` waits for container `{target}` to be `HEALTHY`, but `{target}` has no `health_check`",
                        ),
                    )
                    .label(td.span_of(&format!("{path}.condition")), "waits for a health check...")
                    .label(td.span_of(&dep.at("name")), "...that this container does not have")
                    .help(format!(
                        "add a `health_check` to `{target}`, or wait for `condition: START`"
                    )),
                ),
                Some(exit @ ("COMPLETE" | "SUCCESS")) if dep.essential(cx) == Some(true) => {
                    let essential = if written(td, &dep.at("essential")) {
                        dep.at("essential")
                    } else {
                        dep.at("name")
                    };
                    diags.push(
                        cx.error(
                            "iac::task_definition::exit_condition_on_essential",
                            format!(
                                "container `{me}` waits for container `{target}` to exit (`{exit}`), but `{target}` is essential",
                            ),
                        )
                        .label(td.span_of(&format!("{path}.condition")), "waits for it to exit...")
                        .label(td.span_of(&essential), "...but the task stops when an essential container exits")
                        .help(format!(
                            "set `essential: false` on `{target}` (a container that runs to completion, such as a migration), or wait for `START` or `HEALTHY`"
                        )),
                    );
                }
                _ => {}
            }
        }
    }
}

/// The containers' `cpu` adds up to more than the task's `cpu`.
fn container_cpu(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    let Some(task_cpu) = set(td, "cpu").and_then(|v| cx.known_int(v)) else {
        return;
    };
    let mut total = 0;
    let mut parts: Vec<(String, i64)> = Vec::new();
    for c in containers {
        let Some(v) = c.field("cpu") else { continue };
        // A share known only after apply makes the sum unknowable: skip the rule.
        let Some(cpu) = cx.known_int(v) else { return };
        total += cpu;
        parts.push((c.at("cpu"), cpu));
    }
    if parts.is_empty() || total <= task_cpu {
        return;
    }
    let message = match parts.as_slice() {
        [(path, cpu)] => format!(
            "container `{}` of task definition `{}` asks for `cpu: {cpu}`, more than the task's `cpu: {task_cpu}`",
            containers.iter().find(|c| c.at("cpu") == *path).map_or_else(String::new, Container::label),
            td.name
        ),
        _ => format!(
            "the containers of task definition `{}` ask for `{total}` CPU units, more than the task's `cpu: {task_cpu}`",
            td.name
        ),
    };
    let mut d = cx
        .error("iac::task_definition::container_cpu_exceeds_task", message)
        .label(
            td.span_of("cpu"),
            format!("the task has `{task_cpu}` CPU units"),
        );
    for (path, cpu) in &parts {
        d = d.label(td.span_of(path), format!("`{cpu}` units"));
    }
    diags.push(d.help(format!(
        "lower the containers' `cpu` to `{task_cpu}` in total, or raise the task's `cpu` (keeping a Fargate size)"
    )));
}

/// Mount points name volumes of the task.
fn volumes(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    let volumes = items(td, "volumes");
    let mut names: Vec<&str> = Vec::new();
    for (_, v) in &volumes {
        match v.get("name").and_then(|n| cx.known_str(n)) {
            Some(n) => names.push(n),
            // A volume named only at apply might be the one: skip the mount points.
            None => return,
        }
    }
    for c in containers {
        for (path, m) in entries(c, "mount_points") {
            let Some(volume) = m.get("volume").and_then(|n| cx.known_str(n)) else {
                continue;
            };
            if names.contains(&volume) {
                continue;
            }
            let help = match did_you_mean(volume, &names) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!(
                    "add `volumes: [{{name: {volume}}}]` to `{}` (a bind mount on the task's storage), or an `efs` volume",
                    td.name
                ),
            };
            let mut d = cx
                .error(
                    "iac::task_definition::unknown_volume",
                    format!(
                        "container `{}` of task definition `{}` mounts volume `{volume}`, but the task has no such volume",
                        c.label(),
                        td.name
                    ),
                )
                .label(td.span_of(&format!("{path}.volume")), "no volume of this name");
            if !volumes.is_empty() {
                d = d.label(key_span(td, "volumes"), format!("volumes of `{}`", td.name));
            }
            diags.push(d.help(help));
        }
    }
}

/// At most one log router (`firelens_configuration`), and one for `awsfirelens` to send to.
fn log_routers(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    let routers: Vec<&Container> = containers
        .iter()
        .filter(|c| c.field("firelens_configuration").is_some())
        .collect();
    if let [first, rest @ ..] = routers.as_slice() {
        if !rest.is_empty() {
            let mut d = cx
                .error(
                    "iac::task_definition::multiple_log_routers",
                    format!(
                        "task definition `{}` has {} log routers (`firelens_configuration`); a task has at most one",
                        td.name,
                        routers.len()
                    ),
                )
                .label(key_span(td, &rest[0].at("firelens_configuration")), "a second log router");
            for r in &rest[1..] {
                d = d.label(key_span(td, &r.at("firelens_configuration")), "another one");
            }
            d = d.label(
                key_span(td, &first.at("firelens_configuration")),
                "the first",
            );
            diags.push(d.help(format!(
                "keep `firelens_configuration` on one container (`{}`) and send the others' logs to it with `log_configuration: {{driver: awsfirelens}}`",
                first.label()
            )));
        }
        return;
    }
    for c in containers {
        let driver = c
            .field("log_configuration")
            .and_then(|l| l.get("driver"))
            .and_then(|v| cx.known_str(v));
        if driver != Some("awsfirelens") {
            continue;
        }
        diags.push(
            cx.error(
                "iac::task_definition::firelens_without_router",
                format!(
                    "container `{}` of task definition `{}` logs to FireLens (`awsfirelens`), but no container of the task is a log router",
                    c.label(),
                    td.name
                ),
            )
            .label(td.span_of(&c.at("log_configuration.driver")), "sends its output to the task's log router")
            .label(key_span(td, "containers"), "no container here has `firelens_configuration`")
            .help("add a log router container, e.g. `image: public.ecr.aws/aws-observability/aws-for-fluent-bit:stable` with `firelens_configuration: {type: fluentbit}`"),
        );
        // One diagnostic per task definition: the fix is the same for every container.
        return;
    }
}

/// The short and long forms of one setting together, and what the short form implies.
fn short_and_long_forms(
    cx: &Ctx,
    td: &Resource,
    containers: &[Container],
    diags: &mut Diagnostics,
) {
    for c in containers {
        let me = c.label();
        for (short, long, what) in [
            ("port", "port_mappings", "ports"),
            ("log_group", "log_configuration", "logging"),
        ] {
            if c.field(short).is_some() && c.field(long).is_some() {
                let code = if short == "port" {
                    "iac::task_definition::port_and_port_mappings"
                } else {
                    "iac::task_definition::log_group_and_log_configuration"
                };
                diags.push(
                    cx.error(
                        code,
                        format!(
                            "container `{me}` of task definition `{}` sets both `{short}` and `{long}`",
                            td.name
                        ),
                    )
                    .label(key_span(td, &c.at(long)), format!("the long form of its {what}..."))
                    .label(key_span(td, &c.at(short)), "...and the short form")
                    .help(format!(
                        "keep one: `{short}` is the short form of `{long}`; move what `{short}` says into `{long}`"
                    )),
                );
            }
        }
        if c.field("log_stream_prefix").is_some() && c.field("log_group").is_none() {
            let help = if c.field("log_configuration").is_some() {
                "with `log_configuration`, write the prefix as its option `awslogs-stream-prefix`"
            } else {
                "add `log_group: ${logs.name}`, or remove `log_stream_prefix`"
            };
            diags.push(
                cx.error(
                    "iac::task_definition::stream_prefix_without_log_group",
                    format!(
                        "container `{me}` of task definition `{}` sets `log_stream_prefix` without `log_group`",
                        td.name
                    ),
                )
                .label(key_span(td, &c.at("log_stream_prefix")), "a prefix for the streams of `log_group`")
                .help(help),
            );
        }
        // Bridge networking maps ports (`ec2.rs` checks their collisions).
        let bridge = set(td, "network_mode").and_then(|v| cx.known_str(v)) == Some("bridge");
        for (path, m) in entries(c, "port_mappings").into_iter().filter(|_| !bridge) {
            let port = m.get("port").and_then(|v| cx.known_int(v));
            let host = m
                .get("host_port")
                .filter(|v| !matches!(v, Value::Null))
                .and_then(|v| cx.known_int(v));
            let (Some(port), Some(host)) = (port, host) else {
                continue;
            };
            if port == host {
                continue;
            }
            diags.push(
                cx.error(
                    "iac::task_definition::host_port_mismatch",
                    format!(
                        "container `{me}` of task definition `{}` maps host port `{host}` to container port `{port}`",
                        td.name
                    ),
                )
                .label(td.span_of(&format!("{path}.host_port")), format!("host port `{host}`"))
                .label(td.span_of(&format!("{path}.port")), format!("container port `{port}`"))
                .help(format!(
                    "with awsvpc (Fargate's) or host networking the task's port is the container's: remove `host_port` or set it to `{port}`"
                )),
            );
        }
    }
}

mod settings;

#[cfg(test)]
mod tests;
