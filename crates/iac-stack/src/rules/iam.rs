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
    for role in cx.of_type("aws.iam_role") {
        if !role.existing {
            too_large(cx, role, diags);
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

/// IAM's limit on the inline policies of one role, in characters without whitespace.
const INLINE_POLICY_LIMIT: usize = 10_240;

/// The size of the inline policy iac sends for `policies` (its own statements and those iac
/// adds), at least: a reference counts as its short placeholder, an ARN is longer.
fn policy_size(policies: &Value) -> usize {
    let Ok(text) = serde_json::to_string(policies) else {
        return 0;
    };
    // `Action`, `Resource` and `Condition` are one letter shorter than `actions`,
    // `resources` and `conditions`.
    let shorter: usize = policies
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_map)
        .map(|st| {
            ["actions", "resources", "conditions"]
                .iter()
                .filter(|k| st.contains_key(**k))
                .count()
        })
        .sum();
    // `{"Version":"2012-10-17","Statement":...}` around the list.
    let size = 37 + text.chars().filter(|c| !c.is_whitespace()).count();
    size.saturating_sub(shorter)
}

fn too_large(cx: &Ctx, role: &Resource, diags: &mut Diagnostics) {
    let Some(policies) = set(role, "policies") else {
        return;
    };
    let size = policy_size(policies);
    if size <= INLINE_POLICY_LIMIT {
        return;
    }
    diags.push(
        cx.error(
            "iac::iam_role::policy_too_large",
            format!(
                "the policy of role `{}` is at least {size} characters; IAM allows {INLINE_POLICY_LIMIT} for a role's inline policies",
                role.name
            ),
        )
        .label(super::key_span(role, "policies"), "sent as one inline policy")
        .help("use wildcards in `resources` (`arn:aws:s3:::bucket/*`), merge statements with the same actions, or move statements into a managed policy listed in `managed_policies`"),
    );
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
    fn a_policy_over_iams_limit_is_an_error() {
        let arns = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| format!("arn:aws:s3:::lemon-mart-uploads-{i:04}/customers/*"))
                .collect()
        };
        let mut k = Kit::new("iam");
        k.add(
            "small",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com", "policies": [
                {"effect": "Allow", "actions": ["s3:GetObject"], "resources": arns(150)}]}),
        );
        k.add(
            "big",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com", "policies": [
                {"effect": "Allow", "actions": ["s3:GetObject"], "resources": arns(250)}]}),
        );
        assert_eq!(
            k.labels_of("iac::iam_role::policy_too_large"),
            ["big:policies:key"]
        );
        // The estimate is the document iac sends, whitespace aside.
        let one = json!([{"effect": "Allow", "actions": ["s3:GetObject"], "resources": ["*"]}]);
        let sent = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#;
        let v = crate::value::Value::from(one);
        assert_eq!(super::policy_size(&v), sent.len());
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
