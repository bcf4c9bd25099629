//! `aws.web_service` is exactly the long form: stacks/web-service.yaml (one web service) and
//! stacks/lemon-mart.yaml (18 resources written out) plan the same changes, resource by
//! resource and field by field, once the names are mapped. The names AWS gets (derived from
//! the resource names: `lemon-mart-alb` against `lemon-mart-web-alb`) and the `Name` and
//! `iac:name` tags are the only differences, and the test checks what they are.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use iac_engine::fake::FakeProvider;
use iac_engine::{plan, Plan, PlanOptions, Provider, State};
use iac_stack::schema::{self, DefaultValue};
use iac_stack::{load_file, LoadOptions, Stack};
use serde_json::{json, Value as Json};

/// Long-form name -> web service child.
const NAMES: &[(&str, &str)] = &[
    ("vpc", "web.vpc"),
    ("public_a", "web.public_a"),
    ("public_b", "web.public_b"),
    ("igw", "web.igw"),
    ("public_routes", "web.public_routes"),
    ("alb_sg", "web.alb_sg"),
    ("app_sg", "web.tasks_sg"),
    ("zone", "web.zone"),
    ("cert", "web.cert"),
    ("alb", "web.alb"),
    ("web_tg", "web.tg"),
    ("https", "web.https"),
    ("http", "web.http"),
    ("cluster", "web.cluster"),
    ("logs", "web.logs"),
    ("execution_role", "web.execution_role"),
    ("task", "web.task"),
    ("web", "web.service"),
    ("site", "web.dns"),
];

fn load(file: &str) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../stacks")
        .join(file);
    match load_file(&path, &LoadOptions::default()) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("{file} does not load: {d:?}"),
    }
}

async fn plan_of(stack: &Stack) -> Plan {
    let fake = FakeProvider::new();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let p: Arc<dyn Provider> = Arc::new(fake);
    plan(stack, &State::new(&stack.name), p, &PlanOptions::default())
        .await
        .expect("plan")
}

fn short(long: &str) -> &'static str {
    NAMES
        .iter()
        .find(|(l, _)| *l == long)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("`{long}` has no counterpart in the table"))
}

/// References renamed to the web service's children.
fn rename(v: &mut Json) {
    match v {
        Json::Object(o) => {
            if let Some(Json::String(r)) = o.get_mut("$ref") {
                let (res, attr) = r.rsplit_once('.').unwrap();
                *r = format!("{}.{attr}", short(res));
            }
            if let (Some(Json::String(res)), true) = (o.get("resource"), o.contains_key("attr")) {
                let renamed = short(res).to_string();
                o.insert("resource".into(), Json::String(renamed));
            }
            o.values_mut().for_each(rename);
        }
        Json::Array(a) => a.iter_mut().for_each(rename),
        _ => {}
    }
}

/// The inputs that are names: AWS names defaulted from the resource name, and the tags
/// naming the resource. Taken out of `after` and returned.
fn names_of(stack: &Stack, name: &str, after: &mut Json) -> BTreeMap<String, Json> {
    let r = &stack.resources[name];
    let mut out = BTreeMap::new();
    let Some(o) = after.as_object_mut() else {
        return out;
    };
    for p in r.schema.props {
        let naming = matches!(
            p.default,
            Some(DefaultValue::AwsName | DefaultValue::Pattern(_))
        );
        if naming && r.is_defaulted(p.name) {
            out.insert(p.name.to_string(), o.remove(p.name).unwrap());
        }
    }
    if let Some(Json::Object(tags)) = o.get_mut("tags") {
        for t in ["Name", "iac:name"] {
            if let Some(v) = tags.remove(t) {
                out.insert(format!("tags.{t}"), v);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_web_service_plans_exactly_the_long_form() {
    let long_stack = load("lemon-mart.yaml");
    let short_stack = load("web-service.yaml");
    assert_eq!(long_stack.name, short_stack.name);
    let long = plan_of(&long_stack).await;
    let short_plan = plan_of(&short_stack).await;
    assert_eq!(long.changes.len(), NAMES.len());
    assert_eq!(short_plan.changes.len(), NAMES.len());
    assert_eq!(long.summary.add, short_plan.summary.add);

    for (l, s) in NAMES {
        let lc = long
            .change(l)
            .unwrap_or_else(|| panic!("long form: no `{l}`"));
        let sc = short_plan
            .change(s)
            .unwrap_or_else(|| panic!("web service: no `{s}`"));
        assert_eq!(lc.rtype, sc.rtype, "{l} / {s}");
        assert_eq!(lc.action, sc.action, "{l} / {s}");
        let mut deps: Vec<&str> = lc.dependencies.iter().map(|d| short(d)).collect();
        deps.sort();
        let mut sdeps: Vec<&str> = sc.dependencies.iter().map(String::as_str).collect();
        sdeps.sort();
        assert_eq!(deps, sdeps, "dependencies of {l} / {s}");
        let implied = |c: &iac_engine::Change, map: bool| -> Vec<String> {
            let mut v: Vec<String> = c
                .implied
                .iter()
                .map(|i| {
                    if !map {
                        return format!("{}: {}", i.dependency, i.reason);
                    }
                    // The reason names resources in backticks: those are renamed too.
                    let reason = NAMES.iter().fold(i.reason.clone(), |r, (l, s)| {
                        r.replace(&format!("`{l}`"), &format!("`{s}`"))
                    });
                    format!("{}: {reason}", short(&i.dependency))
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            implied(lc, true),
            implied(sc, false),
            "implied of {l} / {s}"
        );

        let mut la = serde_json::to_value(&lc.after).unwrap();
        let mut sa = serde_json::to_value(&sc.after).unwrap();
        rename(&mut la);
        let lnames = names_of(&long_stack, l, &mut la);
        let snames = names_of(&short_stack, s, &mut sa);
        assert_eq!(la, sa, "inputs of {l} / {s}");
        // The names differ as the resource names do, and only so.
        assert_eq!(
            lnames.keys().collect::<Vec<_>>(),
            snames.keys().collect::<Vec<_>>(),
            "{l} / {s}"
        );
        for (k, v) in &snames {
            let want = match k.as_str() {
                "tags.iac:name" => json!(s),
                "tags.Name" => json!(format!("lemon-mart-{s}")),
                _ => {
                    let max = r_max(&short_stack, s);
                    let p = short_stack.resources[*s].schema.prop(k).unwrap();
                    match p.default {
                        Some(DefaultValue::AwsName) => {
                            json!(schema::aws_name("lemon-mart", s, max))
                        }
                        Some(DefaultValue::Pattern(pat)) => {
                            json!(pat.replace("{stack}", "lemon-mart").replace("{name}", s))
                        }
                        _ => unreachable!(),
                    }
                }
            };
            assert_eq!(v, &want, "{s}: {k}");
        }
    }
    // Outputs: the same values.
    assert_eq!(
        long_stack.outputs["url"].value,
        short_stack.outputs["url"].value
    );
}

fn r_max(stack: &Stack, name: &str) -> usize {
    stack.resources[name]
        .schema
        .aws_name
        .map_or(255, |a| a.max_len)
}

async fn targeted(stack: &Stack, targets: &[&str]) -> Result<Plan, iac_engine::PlanError> {
    let fake = FakeProvider::new();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let p: Arc<dyn Provider> = Arc::new(fake);
    let opts = PlanOptions {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        ..PlanOptions::default()
    };
    plan(stack, &State::new(&stack.name), p, &opts).await
}

#[tokio::test]
async fn a_target_names_one_child_or_the_whole_web_service() {
    let stack = load("web-service.yaml");
    // One child: it and what it needs (the execution role and the log group).
    let task = targeted(&stack, &["web.task"]).await.expect("plan");
    let mut names: Vec<&str> = task.changes.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["web.execution_role", "web.logs", "web.task"]);
    // The parent's name: every child.
    let all = targeted(&stack, &["web"]).await.expect("plan");
    assert_eq!(all.changes.len(), NAMES.len());
    // Neither a resource nor a web service.
    assert!(matches!(
        targeted(&stack, &["we"]).await,
        Err(iac_engine::PlanError::UnknownTarget(t)) if t == "we"
    ));
}

/// Crash recovery knows children by their names like any resource: a load balancer whose
/// create answer was lost is found (by its name and `iac:name` tag `web.alb`) instead of made
/// twice, and the stack converges with every child once.
#[tokio::test(start_paused = true)]
async fn a_lost_create_answer_of_a_child_is_found_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let stack = load("web-service.yaml");
    let fake = FakeProvider::new();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    fake.lose_create_answer("aws.load_balancer", 1);
    let (_, _, state) = common::converged(&stack, dir.path(), &fake).await;
    for name in stack.resources.keys().filter(|n| *n != "web.zone") {
        assert_eq!(fake.objects_named(name).len(), 1, "`{name}`");
    }
    let creates = fake
        .calls_of(iac_engine::fake::Method::Create)
        .into_iter()
        .filter(|c| c.name == "web.alb")
        .count();
    assert_eq!(creates, 1);
    assert!(state.pending.is_empty());
    assert!(!common::plan_with(&stack, &state, &fake).await.has_changes());
}
