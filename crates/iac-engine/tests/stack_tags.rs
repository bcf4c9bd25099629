//! Stack-wide `tags:` through the real loader and the real schema, planned and applied on
//! the fake: every taggable resource the stack manages gets them (its own tags winning), the
//! engine's `Name`, `iac:stack` and `iac:name` stay as they are, and a change to them plans
//! in-place tag updates only, never a replacement.

mod common;

use std::sync::Arc;

use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{plan, render_plan, Action, PlanOptions, State};
use iac_stack::{load_str, LoadOptions, Stack};
use serde_json::json;

const STACK: &str = r#"
stack: tagged
region: us-east-1
vars:
  team: web
tags:
  team: ${var.team}
  cost_center: "4711"
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  public_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.1.0/24
    az: ${region}a
    tags:
      team: network
  sg:
    type: aws.security_group
    vpc: ${vpc.id}
    ingress:
      - { protocol: tcp, port: 80, cidr: 10.0.0.0/16 }
      - { protocol: tcp, port: 8080, source: self }
  zone:
    type: aws.hosted_zone
    name: example.com
    existing: true
  www:
    type: aws.dns_record
    zone: ${zone.id}
    name: www.example.com
    record_type: CNAME
    ttl: 60
    values: [example.com]
"#;

fn load(text: &str, team: &str) -> Stack {
    let opts = LoadOptions {
        vars: vec![("team".into(), team.into())],
        ..LoadOptions::default()
    };
    match load_str("tagged.yaml", text, &opts) {
        Ok(l) => l.stack,
        Err(d) => panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()),
    }
}

async fn plan_of(stack: &Stack, state: &State, fake: &FakeProvider) -> iac_engine::Plan {
    let p: Arc<dyn iac_engine::Provider> = Arc::new(fake.clone());
    plan(stack, state, p, &PlanOptions::default())
        .await
        .expect("plan")
}

/// `(name, action, changed paths)` of the changes that do something.
fn changes(plan: &iac_engine::Plan) -> Vec<(String, Action, Vec<String>)> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| (c.name.clone(), c.action, c.changed_paths.clone()))
        .collect()
}

#[tokio::test]
async fn stack_wide_tags_reach_every_resource_and_a_change_updates_tags_only() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::new();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let mut state = State::new("tagged");

    common::plan_and_apply(&load(STACK, "web"), &mut state, &fake, dir.path()).await;
    let tags = |name: &str| state.resources[name].inputs["tags"].clone();
    assert_eq!(
        tags("vpc"),
        json!({
            "Name": "tagged-vpc",
            "team": "web",
            "cost_center": "4711",
            "iac:stack": "tagged",
            "iac:name": "vpc",
        })
    );
    // The resource's own tag wins.
    assert_eq!(tags("public_a")["team"], json!("network"));
    assert_eq!(tags("public_a")["cost_center"], json!("4711"));
    assert_eq!(tags("sg")["iac:name"], json!("sg"));
    // A record has no tags; the looked-up zone is not the stack's to tag.
    assert!(state.resources["www"].inputs.get("tags").is_none());
    // `source: self` reaches the provider as written: the provider puts the group's id in.
    assert_eq!(
        state.resources["sg"].inputs["ingress"][1]["source"],
        json!("self")
    );
    assert!(
        !plan_of(&load(STACK, "web"), &state, &fake)
            .await
            .has_changes(),
        "a second plan is clean"
    );

    // A stack-wide tag changes (through its var), one is added and one changes value: the
    // taggable resources are updated in place, only at `tags.*`; `public_a` keeps its own
    // `team`, so only the other two keys change there.
    let edited = STACK.replace(
        "  cost_center: \"4711\"\n",
        "  cost_center: \"4712\"\n  owner: ${stack}\n",
    );
    let stack2 = load(&edited, "payments");
    let p = plan_of(&stack2, &state, &fake).await;
    let shown = render_plan(&p, false);
    let owner_and_cost = vec!["tags.cost_center".to_string(), "tags.owner".to_string()];
    let all_three = vec![
        "tags.team".to_string(),
        "tags.cost_center".to_string(),
        "tags.owner".to_string(),
    ];
    let mut got = changes(&p);
    for (_, _, paths) in &mut got {
        paths.sort();
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        got,
        vec![
            ("vpc".to_string(), Action::Update, sorted(all_three.clone())),
            (
                "public_a".to_string(),
                Action::Update,
                sorted(owner_and_cost)
            ),
            ("sg".to_string(), Action::Update, sorted(all_three)),
        ],
        "{shown}"
    );
    for c in &p.changes {
        assert!(c.replace.is_none(), "{}: {shown}", c.name);
        assert!(
            c.changed_paths.iter().all(|path| path.starts_with("tags.")),
            "{}: {:?}",
            c.name,
            c.changed_paths
        );
    }
    assert_eq!(p.summary.add, 0, "{shown}");
    assert_eq!(p.summary.destroy, 0, "{shown}");

    fake.clear_calls();
    common::plan_and_apply(&stack2, &mut state, &fake, dir.path()).await;
    let mut updated: Vec<String> = fake
        .calls_of(Method::Update)
        .into_iter()
        .map(|c| c.name)
        .collect();
    updated.sort();
    assert_eq!(updated, ["public_a", "sg", "vpc"]);
    assert!(fake.calls_of(Method::Create).is_empty());
    assert!(fake.calls_of(Method::Delete).is_empty());
    assert_eq!(
        state.resources["vpc"].inputs["tags"],
        json!({
            "Name": "tagged-vpc",
            "team": "payments",
            "cost_center": "4712",
            "owner": "tagged",
            "iac:stack": "tagged",
            "iac:name": "vpc",
        })
    );
    assert!(!plan_of(&stack2, &state, &fake).await.has_changes());
}
