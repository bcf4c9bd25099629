//! Permissions a stack implies, added by iac to the roles' `policies` so that nobody has to
//! work them out by hand (and the plan shows them before anything is sent).
//!
//! - A task definition whose containers read `secrets` (or log driver `secret_options`)
//!   from Secrets Manager or SSM Parameter Store: its execution role gets
//!   `secretsmanager:GetSecretValue` on exactly those secrets (statement `IacSecretsManager`)
//!   and `ssm:GetParameters` on exactly those parameters (`IacSsmParameters`).
//! - A service with `enable_execute_command: true`: its task definition's task role gets the
//!   four `ssmmessages` actions ECS Exec needs (`IacEcsExec`), on `*` (the actions have no
//!   resource-level permissions). A service with ECS Exec and no task role is an error of the
//!   rules (`iac::service::exec_without_task_role`).
//!
//! Only a role that is a resource of the stack (written as `${role.arn}`), and only what the
//! role's own `policies` do not grant already (an `Allow` of the action, its service's `*` or
//! `*`, on the ARN or `*`), is added. A secret is recognised by its ARN: a literal
//! `arn:...:secretsmanager:...` or `arn:...:ssm:...`, or a reference to an
//! `aws.ssm_parameter`'s `arn`; a parameter given by name only, or a secret held elsewhere,
//! is left to the stack. A secret encrypted with a customer managed KMS key needs
//! `kms:Decrypt` on that key, which the stack grants in `policies` (the key is not named in
//! a `secrets` entry). Secrets Manager references to one JSON key or version
//! (`ARN:json-key:version-stage:version-id`) grant the secret's ARN.

use indexmap::IndexMap;

use crate::model::{Resource, Stack};
use crate::value::{Part, Reference, Value};

/// The sid of the statement granting Secrets Manager secrets.
pub const SID_SECRETS_MANAGER: &str = "IacSecretsManager";
/// The sid of the statement granting SSM parameters.
pub const SID_SSM: &str = "IacSsmParameters";
/// The sid of the statement granting ECS Exec.
pub const SID_EXEC: &str = "IacEcsExec";

/// The actions ECS Exec needs on the task role.
pub const EXEC_ACTIONS: [&str; 4] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// The statements one role needs, by sid: the actions and the resources.
type Statements = IndexMap<&'static str, (Vec<&'static str>, Vec<Value>)>;

/// Adds the statements the stack implies to its roles' `policies`.
pub fn add(stack: &mut Stack) {
    // role name -> sid -> (actions, resources), in the order found.
    let mut wanted: IndexMap<String, Statements> = IndexMap::new();
    for r in stack.resources.values() {
        if r.existing {
            continue;
        }
        match r.schema.name {
            "aws.task_definition" => {
                let Some(role) = role_of(stack, r.prop("execution_role")) else {
                    continue;
                };
                for secret in secrets(r) {
                    let Some((sid, action, arn)) = classify(stack, secret) else {
                        continue;
                    };
                    let e = wanted
                        .entry(role.to_owned())
                        .or_default()
                        .entry(sid)
                        .or_insert_with(|| (vec![action], Vec::new()));
                    if !e.1.contains(&arn) {
                        e.1.push(arn);
                    }
                }
            }
            "aws.ecs_service" => {
                if r.prop("enable_execute_command") != Some(&Value::Bool(true)) {
                    continue;
                }
                let Some(task) =
                    referenced(stack, r.prop("task_definition"), "aws.task_definition")
                else {
                    continue;
                };
                let Some(role) = role_of(stack, task.prop("task_role")) else {
                    continue;
                };
                wanted
                    .entry(role.to_owned())
                    .or_default()
                    .entry(SID_EXEC)
                    .or_insert_with(|| (EXEC_ACTIONS.to_vec(), vec![Value::Str("*".into())]));
            }
            _ => {}
        }
    }
    for (role, statements) in wanted {
        let Some(r) = stack.resources.get_mut(&role) else {
            continue;
        };
        let mut list: Vec<Value> = r
            .prop("policies")
            .and_then(Value::as_list)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        let own = list.clone();
        for (sid, (actions, resources)) in statements {
            let actions: Vec<&str> = actions
                .into_iter()
                .filter(|a| resources.iter().any(|res| !granted(&own, a, res)))
                .collect();
            let resources: Vec<Value> = resources
                .into_iter()
                .filter(|res| actions.iter().any(|a| !granted(&own, a, res)))
                .collect();
            if actions.is_empty() || resources.is_empty() {
                continue;
            }
            let mut st = IndexMap::new();
            st.insert("sid".to_owned(), Value::Str(sid.to_owned()));
            st.insert("effect".to_owned(), Value::Str("Allow".to_owned()));
            st.insert(
                "actions".to_owned(),
                Value::List(
                    actions
                        .iter()
                        .map(|a| Value::Str((*a).to_owned()))
                        .collect(),
                ),
            );
            st.insert("resources".to_owned(), Value::List(resources));
            list.push(Value::Map(st));
        }
        r.props.insert("policies".to_owned(), Value::List(list));
    }
}

/// The stack's role a property names (`${role.arn}`), when it names one.
fn role_of<'s>(stack: &'s Stack, v: Option<&Value>) -> Option<&'s str> {
    referenced(stack, v, "aws.iam_role")
        .filter(|r| !r.existing)
        .map(|r| r.name.as_str())
}

/// The resource of type `rtype` a whole-value reference points at.
fn referenced<'s>(stack: &'s Stack, v: Option<&Value>, rtype: &str) -> Option<&'s Resource> {
    match v? {
        Value::Ref(Reference { resource, .. }) => stack
            .resources
            .get(resource)
            .filter(|r| r.schema.name == rtype),
        _ => None,
    }
}

/// Every secret value of a task definition's containers: `secrets` and the log driver's
/// `secret_options`.
fn secrets(task: &Resource) -> Vec<&Value> {
    let mut out = Vec::new();
    let containers = task
        .prop("containers")
        .and_then(Value::as_list)
        .unwrap_or(&[]);
    for c in containers {
        let Some(c) = c.as_map() else { continue };
        let maps = [
            c.get("secrets"),
            c.get("log_configuration")
                .and_then(Value::as_map)
                .and_then(|l| l.get("secret_options")),
        ];
        for m in maps.into_iter().flatten().filter_map(Value::as_map) {
            out.extend(m.values());
        }
    }
    out
}

/// The statement a secret needs: its sid, the action, and the ARN to grant.
fn classify(stack: &Stack, v: &Value) -> Option<(&'static str, &'static str, Value)> {
    match v {
        Value::Str(s) => {
            let service = s.split(':').nth(2)?;
            if !s.starts_with("arn:") {
                return None;
            }
            match service {
                "secretsmanager" => Some((
                    SID_SECRETS_MANAGER,
                    "secretsmanager:GetSecretValue",
                    // `arn:aws:secretsmanager:R:A:secret:NAME` and no JSON key or version.
                    Value::Str(s.split(':').take(7).collect::<Vec<_>>().join(":")),
                )),
                "ssm" => Some((SID_SSM, "ssm:GetParameters", Value::Str(s.clone()))),
                _ => None,
            }
        }
        Value::Ref(r) => {
            let target = stack.resources.get(&r.resource)?;
            (target.schema.name == "aws.ssm_parameter" && r.attr == "arn")
                .then(|| (SID_SSM, "ssm:GetParameters", v.clone()))
        }
        Value::Template(parts) => match parts.first()? {
            Part::Text(t) if t.starts_with("arn:") => {
                let service = t.split(':').nth(2)?;
                match service {
                    "ssm" => Some((SID_SSM, "ssm:GetParameters", v.clone())),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether the role's own statements already allow `action` on `resource`.
pub fn granted(statements: &[Value], action: &str, resource: &Value) -> bool {
    let service = action.split(':').next().unwrap_or(action);
    let service_all = format!("{service}:*");
    statements.iter().filter_map(Value::as_map).any(|st| {
        let allows = st
            .get("effect")
            .and_then(Value::as_str)
            .is_none_or(|e| e == "Allow");
        let strs = |k: &str| -> Vec<&Value> {
            st.get(k)
                .and_then(Value::as_list)
                .map(|l| l.iter().collect())
                .unwrap_or_default()
        };
        let action_ok = strs("actions").iter().any(|a| {
            a.as_str()
                .is_some_and(|a| a == "*" || a == action || a == service_all)
        });
        let resource_ok = strs("resources")
            .iter()
            .any(|r| r.as_str() == Some("*") || *r == resource);
        allows && action_ok && resource_ok && st.get("conditions").is_none_or(is_empty)
    })
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
