//! AWS names: two resources of one kind that end up with the same name (one written out, one
//! defaulted to `<stack>-<NAME>` and shortened) collide at apply time; the second create fails
//! with a "duplicate name" or, for a task definition family, silently becomes a new revision
//! of the other.

use std::collections::HashMap;

use super::{written, Ctx};
use crate::model::Resource;
use crate::schema::{self, DefaultValue};
use crate::value::Value;
use crate::{Diagnostics, Span};

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut seen: HashMap<(String, String), (&Resource, Span)> = HashMap::new();
    for r in cx.stack.resources.values() {
        // Existing resources are looked up by their name, not created with it.
        if r.existing {
            continue;
        }
        let Some((name, span)) = aws_name(cx, r) else {
            continue;
        };
        let key = (namespace(cx, r), name.clone());
        let Some((first, first_span)) = seen.get(&key) else {
            seen.insert(key, (r, span));
            continue;
        };
        let an = r.schema.aws_name.expect("only named types get here");
        let help = match an.prop {
            Some(p) => format!(
                "set a different `{p}` on `{}` or `{}`, or rename one of the resources",
                first.name, r.name
            ),
            None => "rename one of the resources".to_string(),
        };
        diags.push(
            cx.error(
                "iac::naming::collision",
                format!(
                    "`{}` and `{}` would both be named `{name}` in AWS (`{}`)",
                    first.name, r.name, r.schema.name
                ),
            )
            .label(span, format!("`{name}`, also the name of `{}`", first.name))
            .label(*first_span, format!("named `{name}`"))
            .help(help),
        );
    }
}

/// Where names must be unique: the type, and for a service its cluster.
fn namespace(cx: &Ctx, r: &Resource) -> String {
    match (r.schema.name, r.prop("cluster")) {
        ("aws.ecs_service", Some(Value::Ref(c))) => format!("{} in {}", r.schema.name, c.resource),
        ("aws.ecs_service", Some(v)) => {
            format!("{} in {}", r.schema.name, cx.known_str(v).unwrap_or("?"))
        }
        (t, _) => t.to_string(),
    }
}

/// The name AWS will see, and the span to point at: the name property when the user wrote
/// it, else the resource's key. `None` when the name is only known after apply.
fn aws_name(cx: &Ctx, r: &Resource) -> Option<(String, Span)> {
    let an = r.schema.aws_name?;
    if let Some(p) = an.prop {
        if let Some(v) = r.prop(p).filter(|v| !matches!(v, Value::Null)) {
            let name = cx.known_str(v)?.to_string();
            let span = if written(r, p) {
                r.span_of(p)
            } else {
                r.spans.name
            };
            return Some((name, span));
        }
        if let Some(DefaultValue::Pattern(pat)) = r.schema.prop(p).and_then(|p| p.default) {
            let name = pat
                .replace("{stack}", &cx.stack.name)
                .replace("{name}", &r.name);
            return Some((name, r.spans.name));
        }
    }
    Some((
        schema::aws_name(&cx.stack.name, &r.name, an.max_len),
        r.spans.name,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    #[test]
    fn written_name_colliding_with_a_default_one() {
        let mut k = Kit::new("shop");
        k.add(
            "web",
            "aws.task_definition",
            json!({"cpu": 256, "memory": 512, "containers": []}),
        );
        k.add(
            "worker",
            "aws.task_definition",
            json!({"family": "shop-web", "cpu": 256, "memory": 512, "containers": []}),
        );
        let d = k.one("iac::naming::collision");
        assert_eq!(k.labels(&d), ["worker:family", "web:<name>"]);
        assert!(d.message.contains("`shop-web`"));
    }

    #[test]
    fn same_name_in_different_kinds_is_fine() {
        let mut k = Kit::new("shop");
        k.add("web", "aws.ecs_cluster", json!({}));
        k.add(
            "web_",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com"}),
        );
        k.add(
            "web_x",
            "aws.iam_role",
            json!({"assumed_by": "ecs-tasks.amazonaws.com"}),
        );
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }

    #[test]
    fn shortened_default_names_stay_distinct() {
        let mut k = Kit::new("shop");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        let tg = json!({"vpc": "${vpc.id}", "port": 80, "protocol": "HTTP"});
        k.add(
            "a_very_long_target_group_name_one",
            "aws.target_group",
            tg.clone(),
        );
        k.add("a_very_long_target_group_name_two", "aws.target_group", tg);
        // Both exceed 32 characters; shortening keeps them distinct (a hash of the full name).
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }
}
