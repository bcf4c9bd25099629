//! Taking existing objects into a stack: `iac import` (the engine's `import::read` and
//! `import::record`) and the `import:` key a plan carries out. On the fake provider: what is
//! recorded is the object as read, the next plan updates only where it differs from the
//! stack, and every refusal (unknown name, lookup, already managed, no such object, an
//! object the state has under another name, another stack's object) changes nothing.

mod common;

use common::*;
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::import::{self, ImportError};
use iac_engine::{render_plan, Action, ApplyOptions, PlanError, State};
use iac_stack::Stack;
use serde_json::json;

/// A VPC and a security group in it, as someone made them by hand: no iac tags.
fn made_by_hand(fake: &FakeProvider) -> (String, String) {
    let vpc = fake.seed(
        "aws.vpc",
        "hand",
        json!({"cidr": "10.0.0.0/16", "dns_hostnames": true, "tags": {"team": "web"}}),
    );
    let sg = fake.seed(
        "aws.security_group",
        "hand",
        json!({
            "vpc": vpc,
            "description": "web",
            "ingress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}],
            "tags": {"team": "web"}
        }),
    );
    (vpc, sg)
}

fn vpc_and_sg() -> Stack {
    let r = network();
    stack(vec![r[0].clone(), r[3].clone()])
}

fn with_import(mut s: Stack, name: &str, id: &str) -> Stack {
    s.resources.get_mut(name).expect("resource").import = Some(id.to_string());
    s
}

async fn import_into(
    stack: &Stack,
    state: &mut State,
    fake: &FakeProvider,
    name: &str,
    id: &str,
) -> Result<(), ImportError> {
    let i = import::read(stack, state, fake, name, id, false).await?;
    state.apply(&[import::record(stack, &i)]);
    Ok(())
}

#[tokio::test]
async fn an_imported_object_is_recorded_as_read_and_the_next_plan_adds_only_the_stack_tags() {
    let fake = fake();
    let (vpc, sg) = made_by_hand(&fake);
    let stack = vpc_and_sg();
    let mut state = State::new("demo");
    import_into(&stack, &mut state, &fake, "vpc", &vpc)
        .await
        .expect("import vpc");
    import_into(&stack, &mut state, &fake, "web_sg", &sg)
        .await
        .expect("import sg");
    assert_eq!(state.resources["vpc"].physical_id, vpc);
    assert_eq!(
        state.resources["vpc"].inputs["tags"],
        json!({"team": "web"})
    );
    assert_eq!(
        state.resources["web_sg"].dependencies,
        vec!["vpc".to_string()]
    );
    assert!(
        fake.calls().iter().all(|c| c.method == Method::Read),
        "an import only reads: {:?}",
        fake.calls()
    );

    let plan = plan_with(&stack, &state, &fake).await;
    let changed: Vec<(&str, Action, Vec<String>)> = plan
        .changes
        .iter()
        .map(|c| (c.name.as_str(), c.action, c.changed_paths.clone()))
        .collect();
    // The stack's tags are what differ; the stack does not set `team`, so it goes.
    let tags: Vec<String> = ["tags.Name", "tags.iac:stack", "tags.iac:name", "tags.team"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        changed,
        vec![
            ("vpc", Action::Update, tags.clone()),
            ("web_sg", Action::Update, tags),
        ],
        "{}",
        render_plan(&plan, false)
    );
    assert_eq!(plan.summary.add, 0);
    assert_eq!(plan.summary.destroy, 0);
}

#[tokio::test]
async fn every_refusal_names_the_problem_and_changes_nothing() {
    let fake = fake();
    let (vpc, sg) = made_by_hand(&fake);
    let stack = vpc_and_sg();
    let mut state = State::new("demo");

    let e = import_into(&stack, &mut state, &fake, "nope", &vpc)
        .await
        .unwrap_err();
    assert_eq!(e, ImportError::UnknownName("nope".into()));
    let e = import_into(&stack, &mut state, &fake, "vpc", &sg)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ImportError::BadId { message, .. } if message.contains("`aws.security_group`")),
        "{e:?}"
    );
    let e = import_into(&stack, &mut state, &fake, "vpc", "vpc-0fff")
        .await
        .unwrap_err();
    assert!(matches!(e, ImportError::NotFound { .. }), "{e:?}");
    assert!(state.resources.is_empty());
    // The local checks make no call.
    let reads = fake.calls_of(Method::Read).len();
    assert_eq!(reads, 1, "only the id that passed the checks is read");

    import_into(&stack, &mut state, &fake, "vpc", &vpc)
        .await
        .expect("import");
    let e = import_into(&stack, &mut state, &fake, "vpc", &vpc)
        .await
        .unwrap_err();
    assert!(matches!(e, ImportError::InState { .. }), "{e:?}");

    // The same object under a second name: objects exist once.
    let mut two = vpc_and_sg();
    two.resources.insert(
        "vpc2".into(),
        res("vpc2", &VPC, json!({"cidr": "10.0.0.0/16"})),
    );
    let e = import_into(&two, &mut state, &fake, "vpc2", &vpc)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ImportError::Held { held_by, .. } if held_by == "vpc"),
        "{e:?}"
    );
    let lookup = common::stack(vec![
        res("vpc", &VPC, json!({"cidr": "10.0.0.0/16"})).existing()
    ]);
    let e = import_into(&lookup, &mut State::new("demo"), &fake, "vpc", &vpc)
        .await
        .unwrap_err();
    assert_eq!(e, ImportError::Existing("vpc".into()));
    assert_eq!(state.resources.len(), 1);
}

#[tokio::test]
async fn another_stacks_object_is_imported_only_with_force() {
    let fake = fake();
    let theirs = fake.seed(
        "aws.vpc",
        "vpc",
        json!({"cidr": "10.0.0.0/16", "tags": {"iac:stack": "payments", "iac:name": "vpc"}}),
    );
    let stack = vpc_and_sg();
    let state = State::new("demo");
    let e = import::read(&stack, &state, &fake, "vpc", &theirs, false)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ImportError::Claimed {
            name: "vpc".into(),
            physical_id: theirs.clone(),
            stack: "payments".into()
        }
    );
    let i = import::read(&stack, &state, &fake, "vpc", &theirs, true)
        .await
        .expect("with force");
    assert_eq!(i.object.physical_id, theirs);
}

#[tokio::test]
async fn an_import_key_plans_an_import_that_apply_records_and_the_next_plan_is_clean() {
    let fake = fake();
    let (vpc, sg) = made_by_hand(&fake);
    let stack = with_import(with_import(vpc_and_sg(), "vpc", &vpc), "web_sg", &sg);
    let dir = tempfile::tempdir().unwrap();
    let (plan, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success(), "{:?}", report.failures());
    assert_eq!(plan.summary.import, 2, "{}", render_plan(&plan, false));
    assert_eq!(plan.summary.add, 0);
    let text = render_plan(&plan, false);
    assert!(
        text.contains(&format!(
            "vpc (aws.vpc) will be imported from `{vpc}` and updated"
        )),
        "{text}"
    );
    assert!(text.contains("Plan: 2 to import, 0 to add"), "{text}");
    let import = plan.changes.iter().find(|c| c.name == "vpc").unwrap();
    assert_eq!(import.action, Action::Import);
    assert!(
        import.changed_paths.iter().all(|p| p.starts_with("tags.")),
        "{:?}",
        import.changed_paths
    );
    assert_eq!(state.resources["vpc"].physical_id, vpc);
    assert_eq!(state.resources["web_sg"].physical_id, sg);
    assert_eq!(fake.calls_of(Method::Create).len(), 0, "nothing created");
    // The objects now carry the stack's tags, and the key is done.
    assert_eq!(fake.objects()[&vpc].inputs["tags"]["iac:stack"], "demo");
    let again = plan_with(&stack, &state, &fake).await;
    assert!(again.summary.is_empty(), "{}", render_plan(&again, false));
}

#[tokio::test]
async fn import_keys_are_checked_together_and_a_refused_one_stops_the_plan() {
    let fake = fake();
    let (vpc, _) = made_by_hand(&fake);
    let mut s = with_import(vpc_and_sg(), "vpc", &vpc);
    s.resources.insert(
        "vpc2".into(),
        res("vpc2", &VPC, json!({"cidr": "10.0.0.0/16"})),
    );
    let s = with_import(with_import(s, "vpc2", &vpc), "web_sg", "sg-0abc");
    let e = plan_error(&s, &State::new("demo"), &fake).await;
    let PlanError::Import(list) = e else {
        panic!("{e:?}")
    };
    let names: Vec<&str> = list.iter().map(|e| e.name()).collect();
    assert_eq!(names, vec!["vpc2", "web_sg"], "{list:?}");
    assert!(matches!(list[0], ImportError::Twice { .. }), "{list:?}");
    assert!(matches!(list[1], ImportError::NotFound { .. }), "{list:?}");
    assert!(fake.calls_of(Method::Create).is_empty());
}

#[tokio::test]
async fn an_id_held_by_a_resource_of_another_type_does_not_stop_an_import() {
    // Ids are unique within a type only: IAM gives a role and an instance profile the same
    // name, ECS a capacity provider and a task definition family.
    let fake = FakeProvider::new();
    let (vpc, _) = made_by_hand(&fake);
    let stack = vpc_and_sg();
    let mut state = State::new("demo");
    state.resources.insert(
        "profile".into(),
        iac_engine::state::ResourceState {
            rtype: "aws.instance_profile".into(),
            physical_id: vpc.clone(),
            inputs: json!({}),
            attrs: json!({}),
            dependencies: Vec::new(),
            existing: false,
            incomplete: false,
            former_names: Vec::new(),
        },
    );
    import_into(&stack, &mut state, &fake, "vpc", &vpc)
        .await
        .expect("another type's id is another object");
    assert_eq!(state.resources["vpc"].physical_id, vpc);
}
