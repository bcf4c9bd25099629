//! Roles and what they may do: a statement that allows everything on everything (a
//! warning), and ECS Exec on a service whose task has no role to give the permissions to.

use indexmap::IndexMap;

use super::{set, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for role in cx.of_type("aws.iam_role") {
        if role.existing {
            continue;
        }
        let mut sids: Vec<&str> = Vec::new();
        for (i, st) in set(role, "policies")
            .and_then(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(st) = st.as_map() else { continue };
            malformed(cx, role, i, st, &mut sids, diags);
            let allows = st
                .get("effect")
                .and_then(Value::as_str)
                .is_none_or(|e| e == "Allow");
            let star = |k: &str| {
                st.get(k)
                    .and_then(Value::as_list)
                    .is_some_and(|l| l.iter().any(|v| v.as_str() == Some("*")))
            };
            if allows && star("actions") && star("resources") {
                diags.push(
                    cx.warning(
                        "iac::iam_role::allows_everything",
                        format!(
                            "role `{}` allows every action on every resource (`*` on `*`)",
                            role.name
                        ),
                    )
                    .label(
                        role.span_of(&format!("policies[{i}].actions")),
                        "every action",
                    )
                    .label(
                        role.span_of(&format!("policies[{i}].resources")),
                        "on every resource",
                    )
                    .help("name the actions and the ARNs the role needs: whoever runs as it can do anything in the account"),
                );
            }
        }
    }
    for svc in cx.of_type("aws.ecs_service") {
        if svc.existing || svc.prop("enable_execute_command") != Some(&Value::Bool(true)) {
            continue;
        }
        let Some(task) = svc
            .prop("task_definition")
            .and_then(|v| cx.target(v, "aws.task_definition"))
        else {
            continue;
        };
        if set(task, "task_role").is_some() {
            continue;
        }
        diags.push(
            cx.error(
                "iac::service::exec_without_task_role",
                format!(
                    "service `{}` enables ECS Exec, but its task definition `{}` has no `task_role` to grant it to",
                    svc.name, task.name
                ),
            )
            .label(svc.span_of("enable_execute_command"), "needs the task role's `ssmmessages` permissions")
            .label(task.spans.name, "has no `task_role`")
            .help("give the task definition a `task_role` (an `aws.iam_role` assumed by `ecs-tasks.amazonaws.com`); iac adds the four `ssmmessages` actions ECS Exec needs to it"),
        );
    }
}

/// What IAM refuses in a statement with `MalformedPolicyDocument`: no action or no
/// resource, an action that is not `*` or `service:Action`, a sid that is not letters and
/// digits, or a sid two statements share.
fn malformed<'a>(
    cx: &Ctx,
    role: &Resource,
    i: usize,
    st: &'a IndexMap<String, Value>,
    sids: &mut Vec<&'a str>,
    diags: &mut Diagnostics,
) {
    let mut push = |path: String, what: String, help: &str| {
        diags.push(
            cx.error(
                "iac::iam_role::invalid_statement",
                format!("statement {} of role `{}` {what}", i + 1, role.name),
            )
            .label(role.span_of(&path), "IAM refuses the policy for this")
            .help(help.to_owned()),
        );
    };
    for key in ["actions", "resources"] {
        if st
            .get(key)
            .and_then(Value::as_list)
            .is_some_and(<[Value]>::is_empty)
        {
            push(
                format!("policies[{i}].{key}"),
                format!("has no {key}"),
                "give at least one, or remove the statement",
            );
        }
    }
    for (j, a) in st
        .get("actions")
        .and_then(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let Some(a) = a.as_str() else { continue };
        let ok = a == "*"
            || a.split_once(':').is_some_and(|(service, action)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !action.is_empty()
                    && action
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
            });
        if !ok {
            push(
                format!("policies[{i}].actions[{j}]"),
                format!("has the action `{a}`, which is not `SERVICE:ACTION`"),
                "write actions as IAM names them, e.g. `s3:GetObject` or `sqs:*`",
            );
        }
    }
    if let Some(sid) = st.get("sid").and_then(Value::as_str) {
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            push(
                format!("policies[{i}].sid"),
                format!("has the sid `{sid}`, which is not only letters and digits"),
                "use letters and digits only, e.g. `ReadUploads`",
            );
        } else if sids.contains(&sid) {
            push(
                format!("policies[{i}].sid"),
                format!("has the sid `{sid}` of an earlier statement"),
                "give each statement its own sid",
            );
        } else {
            sids.push(sid);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    #[test]
    fn a_statement_allowing_everything_warns() {
        let mut k = Kit::new("iam");
        k.add(
            "admin",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com", "policies": [
                {"effect": "Allow", "actions": ["s3:GetObject"], "resources": ["*"]},
                {"effect": "Allow", "actions": ["*"], "resources": ["*"]},
                {"effect": "Deny", "actions": ["*"], "resources": ["*"]},
            ]}),
        );
        let d = k.one("iac::iam_role::allows_everything");
        assert!(!d.is_error());
        assert_eq!(
            k.labels(&d),
            ["admin:policies[1].actions", "admin:policies[1].resources"]
        );
        assert_eq!(k.codes(), ["iac::iam_role::allows_everything"]);
    }

    #[test]
    fn statements_iam_would_refuse_are_errors() {
        let mut k = Kit::new("iam");
        k.add(
            "role",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com", "policies": [
                {"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject", "sqs:*"], "resources": ["*"]},
                {"sid": "Read", "effect": "Allow", "actions": [], "resources": ["arn:aws:s3:::b"]},
                {"sid": "no-dash", "effect": "Allow", "actions": ["s3GetObject"], "resources": []},
            ]}),
        );
        let d = k.check();
        let got: Vec<String> = d.iter().map(|d| k.labels(d)[0].clone()).collect();
        assert!(d
            .iter()
            .all(|d| d.code == "iac::iam_role::invalid_statement"));
        assert_eq!(
            got,
            [
                "role:policies[1].actions",
                "role:policies[1].sid",
                "role:policies[2].resources",
                "role:policies[2].actions[0]",
                "role:policies[2].sid",
            ]
        );
    }

    #[test]
    fn ecs_exec_needs_a_task_role() {
        let mut k = Kit::new("iam");
        k.add(
            "task",
            "aws.task_definition",
            json!({"cpu": 256, "memory": 512, "containers": [{"name": "web", "image": "nginx"}]}),
        );
        k.add(
            "web",
            "aws.ecs_service",
            json!({"cluster": "c", "task_definition": "${task.arn}", "desired_count": 1,
                   "subnets": ["subnet-1"], "enable_execute_command": true}),
        );
        let d = k.one("iac::service::exec_without_task_role");
        assert!(d.is_error());
        assert_eq!(k.labels(&d), ["web:enable_execute_command", "task:<name>"]);
    }
}
