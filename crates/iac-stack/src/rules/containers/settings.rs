//! Single settings of a task definition and its containers outside what ECS and Fargate
//! accept: numbers out of range, ulimits, EFS options, `pid_mode: host` and capabilities
//! Fargate does not let a container add.

use super::{entries, Container};
use crate::model::Resource;
use crate::rules::{items, key_span, set, Ctx};
use crate::value::Value;
use crate::Diagnostics;

/// The only capability Fargate lets a container add.
const FARGATE_CAPABILITIES: [&str; 1] = ["SYS_PTRACE"];

/// An EFS access point or IAM authorisation needs transit encryption, and an access point
/// sets the root directory itself.
pub(super) fn efs(cx: &Ctx, td: &Resource, diags: &mut Diagnostics) {
    for (path, v) in items(td, "volumes") {
        let Some(efs) = v.get("efs").filter(|e| matches!(e, Value::Map(_))) else {
            continue;
        };
        let at = |k: &str| format!("{path}.efs.{k}");
        let field = |k: &str| efs.get(k).filter(|v| !matches!(v, Value::Null));
        let flag = |k: &str| field(k).map(|v| cx.known(v).and_then(Value::as_bool));
        let name = v.get("name").and_then(|n| cx.known_str(n)).unwrap_or("?");
        let needs: Vec<&str> = [
            ("access_point", field("access_point").is_some()),
            ("iam", flag("iam") == Some(Some(true))),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        let encrypted = flag("transit_encryption");
        if !needs.is_empty() && matches!(encrypted, None | Some(Some(false))) {
            let mut d = cx
                .error(
                    "iac::task_definition::efs_needs_transit_encryption",
                    format!(
                        "EFS volume `{name}` of task definition `{}` uses `{}` without `transit_encryption`",
                        td.name,
                        needs.join("` and `")
                    ),
                );
            for k in &needs {
                d = d.label(td.span_of(&at(k)), "needs transit encryption");
            }
            if encrypted.is_some() {
                d = d.label(td.span_of(&at("transit_encryption")), "off");
            }
            diags.push(d.help("set `transit_encryption: true` on the volume's `efs`"));
        }
        let root = field("root_directory").and_then(|v| cx.known_str(v));
        if let (Some(root), true) = (root, field("access_point").is_some()) {
            if root != "/" {
                diags.push(
                    cx.error(
                        "iac::task_definition::efs_root_with_access_point",
                        format!(
                            "EFS volume `{name}` of task definition `{}` sets `root_directory: {root}` and an `access_point`",
                            td.name
                        ),
                    )
                    .label(td.span_of(&at("root_directory")), "a root directory...")
                    .label(td.span_of(&at("access_point")), "...and an access point, which sets its own")
                    .help("remove `root_directory` (the access point's path is the root), or mount without the access point"),
                );
            }
        }
    }
}

/// A value and the inclusive range AWS accepts for it.
struct Range {
    /// The path of the value in the resource.
    path: String,
    /// Whose value it is and its path there, for the message: (`container `app``,
    /// `health_check.interval`).
    owner: String,
    field: String,
    what: &'static str,
    min: i64,
    max: i64,
}

/// Numbers outside what ECS or Fargate accept, and ulimits whose soft limit is above the hard.
pub(super) fn ranges(cx: &Ctx, td: &Resource, containers: &[Container], diags: &mut Diagnostics) {
    let task = format!("task definition `{}`", td.name);
    let mut checks = vec![Range {
        path: "ephemeral_storage".into(),
        owner: task.clone(),
        field: "ephemeral_storage".into(),
        what: "GiB of ephemeral storage",
        min: 21,
        max: 200,
    }];
    for c in containers {
        let fields = [
            (
                "health_check.interval",
                "seconds between health checks",
                5,
                300,
            ),
            (
                "health_check.timeout",
                "seconds a health check may take",
                2,
                120,
            ),
            ("health_check.retries", "health check retries", 1, 10),
            (
                "health_check.start_period",
                "seconds of start period",
                0,
                300,
            ),
            ("stop_timeout", "seconds of stop timeout on Fargate", 0, 120),
            (
                "restart_policy.restart_attempt_period",
                "seconds of restart attempt period",
                60,
                1800,
            ),
        ];
        for (field, what, min, max) in fields {
            checks.push(Range {
                path: c.at(field),
                owner: format!("container `{}` of {task}", c.label()),
                field: field.into(),
                what,
                min,
                max,
            });
        }
    }
    for r in checks {
        let Some(n) = set(td, &r.path).and_then(|v| cx.known_int(v)) else {
            continue;
        };
        if (r.min..=r.max).contains(&n) {
            continue;
        }
        let (min, max) = (r.min, r.max);
        diags.push(
            cx.error(
                "iac::task_definition::out_of_range",
                format!(
                    "{} has `{}: {n}`, out of range: {min} to {max} {}",
                    r.owner, r.field, r.what
                ),
            )
            .label(td.span_of(&r.path), format!("not in {min}-{max}"))
            .help(format!("use a value from `{min}` to `{max}`")),
        );
    }
    // Lists with a maximum length.
    for c in containers {
        for (path, max, what) in [
            (
                c.at("restart_policy.ignored_exit_codes"),
                50,
                "ignored exit codes",
            ),
            (c.at("environment_files"), 10, "environment files"),
        ] {
            let n = set(td, &path)
                .and_then(Value::as_list)
                .map_or(0, <[Value]>::len);
            if n > max {
                diags.push(
                    cx.error(
                        "iac::task_definition::out_of_range",
                        format!(
                            "container `{}` of task definition `{}` lists {n} {what}; ECS takes at most {max}",
                            c.label(),
                            td.name
                        ),
                    )
                    .label(key_span(td, &path), format!("{n} entries"))
                    .help(format!("keep at most {max}")),
                );
            }
        }
        for (path, u) in entries(c, "ulimits") {
            let soft = u.get("soft").and_then(|v| cx.known_int(v));
            let hard = u.get("hard").and_then(|v| cx.known_int(v));
            let (Some(soft), Some(hard)) = (soft, hard) else {
                continue;
            };
            if soft <= hard {
                continue;
            }
            let name = u.get("name").and_then(|v| cx.known_str(v)).unwrap_or("?");
            diags.push(
                cx.error(
                    "iac::task_definition::ulimit_soft_above_hard",
                    format!(
                        "ulimit `{name}` of container `{}` has a soft limit `{soft}` above its hard limit `{hard}`",
                        c.label()
                    ),
                )
                .label(td.span_of(&format!("{path}.soft")), format!("soft limit `{soft}`"))
                .label(td.span_of(&format!("{path}.hard")), format!("hard limit `{hard}`"))
                .help(format!("set `soft` at most `{hard}`, or raise `hard`")),
            );
        }
    }
}

/// What Fargate refuses that ECS on EC2 would take: `pid_mode: host`, added capabilities
/// other than `SYS_PTRACE`.
pub(super) fn fargate_only(
    cx: &Ctx,
    td: &Resource,
    containers: &[Container],
    diags: &mut Diagnostics,
) {
    if set(td, "pid_mode").and_then(|v| cx.known_str(v)) == Some("host") {
        diags.push(
            cx.error(
                "iac::task_definition::pid_mode_host",
                format!(
                    "task definition `{}` asks for `pid_mode: host`, which Fargate does not offer",
                    td.name
                ),
            )
            .label(td.span_of("pid_mode"), "only `task` on Fargate")
            .help("use `pid_mode: task` to share the process namespace between the task's containers, or remove it"),
        );
    }
    for c in containers {
        let path = c.at("linux_parameters.capabilities.add");
        for (i, v) in items(td, &path) {
            let Some(cap) = cx.known_str(v) else { continue };
            if FARGATE_CAPABILITIES.contains(&cap) {
                continue;
            }
            diags.push(
                cx.error(
                    "iac::task_definition::fargate_capability",
                    format!(
                        "container `{}` of task definition `{}` adds the capability `{cap}`, which Fargate does not allow",
                        c.label(),
                        td.name
                    ),
                )
                .label(td.span_of(&i), "Fargate adds only `SYS_PTRACE`")
                .help("remove it from `add`; Fargate containers may add `SYS_PTRACE` and drop any capability"),
            );
        }
    }
}
