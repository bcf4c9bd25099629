//! References that point at the wrong kind of resource: `vpc: ${public_a.id}` (a subnet where a
//! VPC is expected) or `log_group: ${logs.arn}` (an ARN where the log group's name is expected).
//! The loader checks that the resource and attribute exist and that the value's shape fits; only
//! the schema's `Kind::Id` says which type and attribute a property wants, and AWS would only
//! say "not found" or "invalid" at apply time.

use super::Ctx;
use crate::model::Resource;
use crate::schema::{Kind, Prop};
use crate::value::Value;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for r in cx.stack.resources.values() {
        for p in r.schema.props {
            if let Some(v) = r.prop(p.name) {
                walk(cx, r, &p.kind, v, p.name, diags);
            }
        }
    }
}

fn walk(cx: &Ctx, r: &Resource, kind: &Kind, v: &Value, path: &str, diags: &mut Diagnostics) {
    match (kind, v) {
        (Kind::Id { rtype, attr }, Value::Ref(reference)) => {
            let Some(target) = cx.stack.resources.get(&reference.resource) else {
                return;
            };
            // Another stack's output is whatever that stack says it is.
            if crate::schema::is_stack_ref(target.schema.name) {
                return;
            }
            if target.schema.name != *rtype {
                let example = cx
                    .of_type(rtype)
                    .next()
                    .map_or_else(|| "NAME".to_string(), |t| t.name.clone());
                diags.push(
                    cx.error(
                        "iac::reference::wrong_resource_type",
                        format!(
                            "`{path}` of `{}` expects an `{rtype}`, but `{reference}` is an `{}`",
                            r.name, target.schema.name
                        ),
                    )
                    .label(r.span_of(path), format!("expects an `{rtype}`"))
                    .label(
                        target.spans.rtype,
                        format!("`{}` is an `{}`", target.name, target.schema.name),
                    )
                    .help(format!(
                        "reference an `{rtype}`, e.g. `${{{example}.{attr}}}`"
                    )),
                );
            } else if reference.attr != *attr {
                diags.push(
                    cx.error(
                        "iac::reference::wrong_attribute",
                        format!(
                            "`{path}` of `{}` expects the `{attr}` of an `{rtype}`, not its `{}`",
                            r.name, reference.attr
                        ),
                    )
                    .label(
                        r.span_of(path),
                        format!("expects `${{{}.{attr}}}`", reference.resource),
                    )
                    .help(format!("write `${{{}.{attr}}}`", reference.resource)),
                );
            }
        }
        (Kind::ListOf(inner), Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                walk(cx, r, inner, item, &format!("{path}[{i}]"), diags);
            }
        }
        (Kind::MapOf(inner), Value::Map(m)) => {
            for (k, item) in m {
                walk(cx, r, inner, item, &format!("{path}.{k}"), diags);
            }
        }
        (Kind::OneOf(alts), v) => {
            let is_map = matches!(v, Value::Map(_));
            if let Some(alt) = alts
                .iter()
                .find(|k| matches!(k, Kind::Object(_) | Kind::MapOf(_)) == is_map)
            {
                walk(cx, r, alt, v, path, diags);
            }
        }
        (Kind::Object(fields), Value::Map(m)) => {
            for Prop { name, kind, .. } in fields.iter() {
                if let Some(item) = m.get(*name) {
                    walk(cx, r, kind, item, &format!("{path}.{name}"), diags);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    fn kit() -> Kit {
        let mut k = Kit::new("refs");
        k.network(&["a"]);
        k.add("logs", "aws.log_group", json!({}));
        k
    }

    #[test]
    fn right_type_and_attribute_pass() {
        let mut k = kit();
        k.add(
            "web",
            "aws.task_definition",
            json!({"cpu": 256, "memory": 512,
                   "containers": [{"name": "app", "image": "x", "log_group": "${logs.name}"}]}),
        );
        let codes = k.codes();
        assert!(
            !codes.iter().any(|c| c.starts_with("iac::reference::")),
            "{codes:?}"
        );
    }

    #[test]
    fn wrong_resource_type_in_a_list_and_at_top_level() {
        let mut k = kit();
        k.add(
            "b",
            "aws.subnet",
            json!({"vpc": "${a.id}", "cidr": "10.0.2.0/24", "az": "us-east-1b"}),
        );
        let d = k.one("iac::reference::wrong_resource_type");
        assert_eq!(k.labels(&d)[0], "b:vpc");
        assert_eq!(
            d.help.as_deref(),
            Some("reference an `aws.vpc`, e.g. `${vpc.id}`")
        );

        let mut k = kit();
        k.add(
            "alb",
            "aws.load_balancer",
            json!({"subnets": ["${a.id}", "${vpc.id}"]}),
        );
        let d = k.one("iac::reference::wrong_resource_type");
        assert_eq!(k.labels(&d)[0], "alb:subnets[1]");
    }

    #[test]
    fn wrong_attribute_in_a_nested_object() {
        let mut k = kit();
        k.add(
            "web",
            "aws.task_definition",
            json!({"cpu": 256, "memory": 512,
                   "containers": [{"name": "app", "image": "x", "log_group": "${logs.arn}"}]}),
        );
        let d = k.one("iac::reference::wrong_attribute");
        assert_eq!(k.labels(&d), ["web:containers[0].log_group"]);
        assert_eq!(d.help.as_deref(), Some("write `${logs.name}`"));
    }
}
