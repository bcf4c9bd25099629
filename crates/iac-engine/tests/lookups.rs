//! `existing` lookups on the fake provider: by properties, by id, one lookup referring to
//! another, and the errors that name what was searched for.

mod common;

use std::sync::Arc;

use common::*;
use iac_engine::plan::{Action, PlanError};
use iac_engine::provider::Provider;
use iac_engine::render::render_plan;
use iac_engine::state::State;
use iac_engine::PlanOptions;
use serde_json::json;

async fn try_plan(
    stack: &iac_stack::Stack,
    fake: &iac_engine::fake::FakeProvider,
) -> Result<iac_engine::plan::Plan, PlanError> {
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    iac_engine::plan(stack, &State::new("demo"), p, &PlanOptions::default()).await
}

fn by_id(mut r: iac_stack::Resource, id: &str) -> iac_stack::Resource {
    r.existing = true;
    r.lookup_id = Some(id.into());
    r
}

#[tokio::test]
async fn a_lookup_may_use_what_another_lookup_found() {
    let fake = fake();
    let vpc_id = fake.seed("aws.vpc", "shared", json!({"cidr": "10.9.0.0/16"}));
    let subnet_id = fake.seed(
        "aws.subnet",
        "shared_a",
        json!({"vpc": vpc_id, "cidr": "10.9.1.0/24", "az": "eu-west-1a"}),
    );
    let stack = stack(vec![
        res("vpc", &VPC, json!({"cidr": "10.9.0.0/16"})).existing(),
        res(
            "subnet",
            &SUBNET,
            json!({"vpc": "${vpc.id}", "cidr": "10.9.1.0/24"}),
        )
        .existing(),
        res(
            "app",
            &SUBNET,
            json!({"vpc": "${vpc.id}", "cidr": "10.9.2.0/24", "az": "eu-west-1b"}),
        ),
    ]);
    let plan = try_plan(&stack, &fake).await.expect("plan");
    let subnet = plan.change("subnet").unwrap();
    assert_eq!(subnet.action, Action::Read);
    assert_eq!(subnet.physical_id.as_deref(), Some(subnet_id.as_str()));
    let app = plan.change("app").unwrap();
    assert_eq!(app.action, Action::Create);
    assert_eq!(
        app.after.as_ref().unwrap().get("vpc").unwrap().as_str(),
        Some(vpc_id.as_str())
    );
    // Lookups count in none of the numbers; the plan lists them with what they found.
    assert_eq!(plan.summary.add, 1);
    let shown = render_plan(&plan, false);
    assert!(
        shown.contains(&format!(
            "Looked up:\n  <= vpc (aws.vpc): {vpc_id}, by `cidr` 10.9.0.0/16\n  <= subnet (aws.subnet): {subnet_id}, by `vpc` {vpc_id} and `cidr` 10.9.1.0/24\n"
        )),
        "{shown}"
    );
}

#[tokio::test]
async fn a_lookup_by_id_reads_the_object_and_apply_reads_it_again() {
    let fake = fake();
    let zone = fake.seed("aws.hosted_zone", "shared", json!({"name": "example.org"}));
    let stack = stack(vec![by_id(res("zone", &ZONE, json!({})), &zone)]);
    let plan = try_plan(&stack, &fake).await.expect("plan");
    let c = plan.change("zone").unwrap();
    assert_eq!(c.action, Action::Read);
    assert_eq!(c.physical_id.as_deref(), Some(zone.as_str()));
    assert_eq!(c.lookup_id.as_deref(), Some(zone.as_str()));
    assert!(render_plan(&plan, false).contains(&format!("by id `{zone}`")));

    let dir = tempfile::tempdir().unwrap();
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    assert_eq!(state.resources["zone"].physical_id, zone);
    assert!(state.resources["zone"].existing);
}

#[tokio::test]
async fn nothing_found_names_what_was_searched_for() {
    let fake = fake();
    let stack1 = stack(vec![res(
        "vpc",
        &VPC,
        json!({"cidr": "10.1.0.0/16", "tags": {"Name": "shared"}}),
    )
    .existing()]);
    let err = try_plan(&stack1, &fake).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`vpc` is `existing` but no `aws.vpc` matches `tags` Name=shared and `cidr` 10.1.0.0/16"
    );
    let stack2 = stack(vec![by_id(res("vpc", &VPC, json!({})), "vpc-0123")]);
    let err = try_plan(&stack2, &fake).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`vpc` is `existing` but no `aws.vpc` has the id `vpc-0123`"
    );
}

#[tokio::test]
async fn a_lookup_may_not_refer_to_a_managed_resource() {
    let fake = fake();
    let stack = stack(vec![
        res("vpc", &VPC, json!({"cidr": "10.1.0.0/16"})),
        res("subnet", &SUBNET, json!({"vpc": "${vpc.id}"})).existing(),
    ]);
    let err = try_plan(&stack, &fake).await.unwrap_err();
    assert!(
        err.to_string().contains(
            "its `vpc` refers to `vpc`, which iac manages: a lookup is made before anything is created"
        ),
        "{err}"
    );
}
