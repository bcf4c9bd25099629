//! The project's example stack (stacks/lemon-mart.yaml), loaded by the real loader with the
//! real schema, through plan, apply, a deploy of a new image, and destroy on the fake.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{plan_destroy, render_plan, Action, ApplyOptions, PlanOptions, Provider, State};
use iac_stack::{load_file, LoadOptions, Stack};
use serde_json::json;

fn load(image: &str) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let opts = LoadOptions {
        vars: vec![("image".into(), image.into())],
        ..LoadOptions::default()
    };
    match load_file(&path, &opts) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("the example stack does not load: {d:?}"),
    }
}

#[tokio::test]
async fn the_example_stack_deploys_redeploys_and_is_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::example_world();
    let stack = load("nginx:1.27");
    let mut state = State::new(&stack.name);

    let first = common::plan_and_apply(&stack, &mut state, &fake, dir.path()).await;
    let n = stack.resources.len();
    assert_eq!(
        first.summary.add,
        n - 1,
        "all but the looked-up zone are created"
    );
    assert_eq!(first.change("zone").unwrap().action, Action::Read);
    // `ssl_policy` defaults only where it means something: on the HTTPS listener.
    let policy = |name: &str| {
        let after = first.change(name).unwrap().after.clone().unwrap();
        after.get("ssl_policy").cloned()
    };
    assert!(policy("https").is_some());
    assert_eq!(policy("http"), None);
    let shown = render_plan(&first, false);
    assert_eq!(shown.matches("ssl_policy").count(), 1, "{shown}");
    assert_eq!(state.outputs["url"], json!("https://lemonmart.example.com"));
    assert!(state.outputs["alb_dns"]
        .as_str()
        .unwrap()
        .ends_with(".fake.elb.amazonaws.com"));
    // Tags reach the provider.
    let vpc = &state.resources["vpc"].inputs["tags"];
    assert_eq!(vpc["iac:stack"], json!("lemon-mart"));
    assert_eq!(vpc["iac:name"], json!("vpc"));
    assert_eq!(vpc["Name"], json!("lemon-mart-vpc"));

    // Nothing to do the second time.
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let again = common::plan_with(&stack, &state, &fake).await;
    assert!(!again.has_changes(), "{}", render_plan(&again, false));

    // A deploy: a new image updates the task definition, whose new revision updates the
    // service.
    let deploy = load("nginx:1.28");
    let plan2 = common::plan_with(&deploy, &state, &fake).await;
    let changed: Vec<(&str, Action)> = plan2
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp && c.action != Action::Read)
        .map(|c| (c.name.as_str(), c.action))
        .collect();
    assert_eq!(changed, [("task", Action::Update), ("web", Action::Update)]);
    assert_eq!(
        plan2.change("web").unwrap().changed_paths,
        ["task_definition"]
    );
    let shown = render_plan(&plan2, false);
    assert!(shown.contains("(known after apply)"), "{shown}");
    assert!(
        shown.contains("will get a new revision (revision "),
        "{shown}"
    );
    let old_arn = state.resources["task"].attrs["arn"].clone();
    common::plan_and_apply(&deploy, &mut state, &fake, dir.path()).await;
    let new_arn = state.resources["task"].attrs["arn"].clone();
    assert_ne!(old_arn, new_arn);
    assert_eq!(state.resources["web"].inputs["task_definition"], new_arn);
    let after = common::plan_with(&deploy, &state, &fake).await;
    assert!(!after.has_changes(), "{}", render_plan(&after, false));

    // Destroy: everything but the looked-up zone, dependents first.
    let backend = iac_engine::LocalBackend::new(dir.path(), &stack.name);
    let dplan = plan_destroy(&deploy, &state, &PlanOptions::default()).unwrap();
    assert_eq!(dplan.summary.destroy, n - 1);
    // The log group's events go with it; the looked-up zone is only forgotten.
    assert_eq!(dplan.data_loss, ["logs"]);
    assert!(render_plan(&dplan, false)
        .ends_with("Warning: 1 resource holding data will be deleted: logs (aws.log_group).\n"));
    fake.clear_calls();
    let report = common::apply_quietly(&dplan, &mut state, &backend, p, &ApplyOptions::default())
        .await
        .unwrap();
    assert!(report.success(), "{report:?}");
    assert!(state.resources.is_empty());
    assert!(state.outputs.is_empty());
    assert_eq!(fake.objects().len(), 1, "only the seeded zone is left");
    let deletes = fake.calls_of(Method::Delete);
    let pos = |n: &str| deletes.iter().position(|c| c.name == n).unwrap();
    assert!(pos("web") < pos("task"));
    assert!(pos("https") < pos("cert"));
    assert!(pos("public_a") < pos("vpc"));
}

#[tokio::test]
async fn the_plan_as_markdown_leads_with_the_summary_and_warnings_and_draws_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::example_world();
    let stack = load("nginx:1.27");
    let mut state = State::new(&stack.name);
    common::plan_and_apply(&stack, &mut state, &fake, dir.path()).await;

    // A deploy: two updates, drawn task -> web.
    let deploy = load("nginx:1.28");
    let plan2 = common::plan_with(&deploy, &state, &fake).await;
    let md = iac_engine::render_markdown(&plan2);
    let first = md.lines().next().unwrap();
    assert_eq!(
        first,
        "### iac plan for `lemon-mart`: 0 to add, 2 to change, 0 to replace, 0 to destroy."
    );
    assert_eq!(md.matches("<details>").count(), 2, "{md}");
    assert!(
        md.contains("<summary><code>~ task (aws.task_definition) `"),
        "{md}"
    );
    // The changed line of the container, marked at the start so GitHub colours it.
    assert!(
        md.lines()
            .any(|l| l.starts_with('+') && l.contains("\"image\": \"nginx:1.28\"")),
        "{md}"
    );
    assert!(md.contains("```mermaid\nflowchart LR\n"), "{md}");
    assert!(md.contains("  task --> web\n"), "{md}");
    assert!(!md.contains("[!WARNING]"), "{md}");
    insta::assert_snapshot!("deploy_plan_markdown", md);

    // Destroy: the data-loss warning comes before the details.
    let dplan = plan_destroy(&deploy, &state, &PlanOptions::default()).unwrap();
    let md = iac_engine::render_markdown(&dplan);
    let warning = md.find("> [!WARNING]\n> Warning: 1 resource holding data will be deleted: logs (aws.log_group).").expect(&md);
    assert!(warning < md.find("<details>").unwrap(), "{md}");
    assert!(md.starts_with("### iac destroy plan for `lemon-mart`: 0 to add, 0 to change, 0 to replace, 18 to destroy."), "{md}");

    // Nothing to do.
    let converged = common::plan_with(&stack, &state, &fake).await;
    assert_eq!(
        iac_engine::render_markdown(&converged),
        "### iac plan for `lemon-mart`: no changes\n"
    );
}
