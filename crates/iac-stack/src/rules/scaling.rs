//! `scaling:` of ECS services: what Application Auto Scaling refuses at apply time
//! (`RegisterScalableTarget` with `min` above `max`; a request-count policy without a load
//! balancer to count at), a scaling block that would never scale, and a `desired_count`
//! the scaler would move at once (outside `[min, max]`).

use super::{set, Ctx};
use crate::model::Resource;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for svc in cx.of_type("aws.ecs_service") {
        if svc.existing || set(svc, "scaling").is_none() {
            continue;
        }
        check_one(cx, svc, diags);
    }
}

fn check_one(cx: &Ctx, svc: &Resource, diags: &mut Diagnostics) {
    let int = |path: &str| set(svc, path).and_then(|v| cx.known_int(v));
    let (min, max) = (int("scaling.min"), int("scaling.max"));
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            diags.push(
                cx.error(
                    "iac::scaling::min_above_max",
                    format!(
                        "service `{}` scales between `min: {min}` and `max: {max}`: the minimum is above the maximum",
                        svc.name
                    ),
                )
                .label(svc.span_of("scaling.min"), "the fewest tasks")
                .label(svc.span_of("scaling.max"), "is more than the most")
                .help("make `min` at most `max`; Application Auto Scaling refuses the target otherwise"),
            );
        } else if let Some(desired) = int("desired_count") {
            if desired < min || desired > max {
                diags.push(
                    cx.error(
                        "iac::scaling::desired_outside_range",
                        format!(
                            "service `{}` starts with `desired_count: {desired}`, outside its scaling range {min}-{max}",
                            svc.name
                        ),
                    )
                    .label(svc.span_of("desired_count"), "the starting count")
                    .label(svc.span_of("scaling"), format!("keeps the count between {min} and {max}"))
                    .help(format!(
                        "set `desired_count` between `{min}` and `{max}`: the scaler would move it at once, and every deploy would start from a count it then changes"
                    )),
                );
            }
        }
    }
    let metrics = ["cpu", "memory", "requests_per_target"];
    if metrics
        .iter()
        .all(|m| set(svc, &format!("scaling.{m}")).is_none())
    {
        diags.push(
            cx.error(
                "iac::scaling::no_metric",
                format!(
                    "service `{}` has `scaling` but no metric to track: it would never scale",
                    svc.name
                ),
            )
            .label(svc.span_of("scaling"), "no `cpu`, `memory` or `requests_per_target`")
            .help("add `cpu: 60` (percent), `memory: 70` (percent) or `requests_per_target: 1000` (requests per task per minute)"),
        );
    }
    for m in ["cpu", "memory"] {
        let path = format!("scaling.{m}");
        if let Some(p) = int(&path).filter(|p| !(1..=100).contains(p)) {
            diags.push(
                cx.error(
                    "iac::scaling::invalid_target",
                    format!(
                        "service `{}` tracks `{m}` at {p} percent, outside 1-100",
                        svc.name
                    ),
                )
                .label(svc.span_of(&path), "not a percentage")
                .help(format!("give `{m}` a percentage from 1 to 100, e.g. `60`")),
            );
        }
    }
    if set(svc, "scaling.requests_per_target").is_some() && set(svc, "load_balancer").is_none() {
        diags.push(
            cx.error(
                "iac::scaling::requests_without_load_balancer",
                format!(
                    "service `{}` scales on `requests_per_target` but has no `load_balancer`: there are no requests to count",
                    svc.name
                ),
            )
            .label(
                super::key_span(svc, "scaling.requests_per_target"),
                "counts the load balancer's requests per task",
            )
            .help("add the service's `load_balancer` (its target group is where the requests are counted), or scale on `cpu` or `memory`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    fn service(scaling: serde_json::Value, desired: i64, lb: bool) -> serde_json::Value {
        let mut s = json!({
            "cluster": "arn:aws:ecs:us-east-1:1:cluster/c",
            "task_definition": "arn:aws:ecs:us-east-1:1:task-definition/t:1",
            "desired_count": desired,
            "subnets": ["subnet-1"],
            "scaling": scaling,
        });
        if lb {
            s["load_balancer"] = json!({"target_group": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1", "container": "web", "port": 80});
        }
        s
    }

    #[test]
    fn a_sound_scaling_block_passes() {
        let mut k = Kit::new("scaling");
        k.add(
            "web",
            "aws.ecs_service",
            service(
                json!({"min": 1, "max": 4, "cpu": 60, "requests_per_target": 500}),
                2,
                true,
            ),
        );
        assert_eq!(k.codes(), Vec::<&str>::new());
    }

    #[test]
    fn each_mistake_has_its_code() {
        let mut k = Kit::new("scaling");
        k.add(
            "inverted",
            "aws.ecs_service",
            service(json!({"min": 5, "max": 2, "cpu": 60}), 3, false),
        );
        k.add(
            "outside",
            "aws.ecs_service",
            service(json!({"min": 2, "max": 4, "memory": 70}), 1, false),
        );
        k.add(
            "idle",
            "aws.ecs_service",
            service(json!({"min": 1, "max": 2}), 1, false),
        );
        k.add(
            "blind",
            "aws.ecs_service",
            service(
                json!({"min": 1, "max": 2, "requests_per_target": 100}),
                1,
                false,
            ),
        );
        k.add(
            "percent",
            "aws.ecs_service",
            service(json!({"min": 1, "max": 2, "cpu": 150}), 1, false),
        );
        let d = k.check();
        let got: Vec<(&str, String)> = d.iter().map(|d| (d.code, k.labels(d)[0].clone())).collect();
        assert_eq!(
            got,
            [
                (
                    "iac::scaling::min_above_max",
                    "inverted:scaling.min".to_owned()
                ),
                (
                    "iac::scaling::desired_outside_range",
                    "outside:desired_count".to_owned()
                ),
                ("iac::scaling::no_metric", "idle:scaling".to_owned()),
                (
                    "iac::scaling::requests_without_load_balancer",
                    "blind:scaling.requests_per_target:key".to_owned()
                ),
                (
                    "iac::scaling::invalid_target",
                    "percent:scaling.cpu".to_owned()
                ),
            ]
        );
    }
}
