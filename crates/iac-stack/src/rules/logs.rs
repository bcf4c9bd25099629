//! Log groups and other resources that hold data: retention periods PutRetentionPolicy
//! refuses, and a warning for data that a `destroy` (or a replacing change) would delete.

use super::{set, Ctx};
use crate::model::Resource;
use crate::Diagnostics;

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`).
pub(crate) const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for lg in cx.of_type("aws.log_group") {
        retention(cx, lg, diags);
    }
    for r in cx.stack.resources.values() {
        unprotected(cx, r, diags);
    }
}

fn retention(cx: &Ctx, lg: &Resource, diags: &mut Diagnostics) {
    let Some(days) = set(lg, "retention_days").and_then(|v| cx.known_int(v)) else {
        return;
    };
    if RETENTION_DAYS.contains(&days) {
        return;
    }
    // The nearest allowed values on each side, for the help line.
    let below = RETENTION_DAYS.iter().rev().find(|d| **d < days);
    let above = RETENTION_DAYS.iter().find(|d| **d > days);
    let help = match (below, above) {
        (Some(b), Some(a)) => format!("use `{b}` or `{a}`; CloudWatch allows only 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 and 3653 days"),
        (Some(b), None) => format!("use `{b}` (the longest period CloudWatch allows), or remove `retention_days` to keep logs forever"),
        (None, Some(a)) => format!("use `{a}` (the shortest period CloudWatch allows)"),
        (None, None) => unreachable!("RETENTION_DAYS is not empty"),
    };
    diags.push(
        cx.error(
            "iac::log_group::invalid_retention",
            format!(
                "log group `{}` has `retention_days: {days}`, which CloudWatch does not allow",
                lg.name
            ),
        )
        .label(
            lg.span_of("retention_days"),
            "not a CloudWatch retention period",
        )
        .help(help),
    );
}

/// A log group that keeps its logs for a chosen period and an image repository hold data that
/// cannot be recreated; without `protect: true` a `destroy` deletes them silently.
fn unprotected(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    if r.protect || r.existing {
        return;
    }
    let what = match r.schema.name {
        "aws.log_group" if set(r, "retention_days").is_some() => "log group",
        "aws.ecr_repository" => "image repository",
        _ => return,
    };
    diags.push(
        cx.warning(
            "iac::protect::unprotected_stateful",
            format!(
                "{what} `{}` holds data that `destroy` would delete, and it has no `protect: true`",
                r.name
            ),
        )
        .label(r.spans.name, format!("this {what} is not protected"))
        .help(match crate::child_name(&r.name) {
            // A web service's child: its meta keys are set through `overrides:`.
            Some((_, child)) => format!("add `overrides: {{ {child}: {{ protect: true }} }}` to the web service so plan refuses to destroy or replace it (remove it again when you mean to delete the data)"),
            None => "add `protect: true` so plan refuses to destroy or replace it (remove it again when you mean to delete the data)".to_string(),
        }),
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    #[test]
    fn retention_must_be_a_cloudwatch_value() {
        let mut k = Kit::new("logs");
        k.add("ok", "aws.log_group", json!({"retention_days": 30}))
            .protect = true;
        k.add("bad", "aws.log_group", json!({"retention_days": 45}))
            .protect = true;
        k.add("long", "aws.log_group", json!({"retention_days": 5000}))
            .protect = true;
        let d = k.check();
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "iac::log_group::invalid_retention",
                "iac::log_group::invalid_retention"
            ]
        );
        assert!(d.0[0]
            .help
            .as_ref()
            .unwrap()
            .starts_with("use `30` or `60`"));
        assert!(d.0[1].help.as_ref().unwrap().starts_with("use `3653`"));
        assert_eq!(k.labels(&d.0[0]), ["bad:retention_days"]);
    }

    #[test]
    fn stateful_resources_without_protect_warn() {
        let mut k = Kit::new("logs");
        k.add("kept", "aws.log_group", json!({"retention_days": 30}));
        k.add("repo", "aws.ecr_repository", json!({}));
        k.add("forever", "aws.log_group", json!({}));
        k.add("safe", "aws.ecr_repository", json!({})).protect = true;
        k.add("theirs", "aws.ecr_repository", json!({})).existing = true;
        let d = k.check();
        assert!(d.iter().all(|d| !d.is_error()));
        let names: Vec<_> = d.iter().map(|d| k.labels(d)[0].clone()).collect();
        assert_eq!(names, ["kept:<name>", "repo:<name>"]);
    }
}
