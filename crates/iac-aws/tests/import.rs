//! `iac import` of every resource type, on the emulator (moto).
//!
//! tests/fixtures/aws/roundtrip.yaml holds every type with every property set. It is
//! applied, then every object is imported into an empty state by the id a user copies from
//! the console (an EC2 id, an ARN, a name, `ZONE/NAME/TYPE`, `CLUSTER/SERVICE`,
//! `FAMILY:REVISION`), in dependency order, through the engine's `import::read` and
//! `import::record` as the binary does. The plan that follows must be clean: what an import
//! records is the object as it is, exactly.
//!
//! A VPC's DNS attributes are in no batch read; an import reads them with
//! `DescribeVpcAttribute`, which the test checks by handing the import the opposite values
//! as the stack's.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use iac_engine::import;
use iac_engine::State;
use iac_stack::Stack;
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

use common::{assert_clean, make_plan, Deployment};

const FIXTURE: &str = "tests/fixtures/aws/roundtrip.yaml";

fn text<'a>(v: &'a Json, key: &str) -> &'a str {
    v.get(key)
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

/// The id a user would copy from the console for a resource the state records.
fn console_id(stack: &Stack, state: &State, name: &str) -> String {
    let r = &state.resources[name];
    let (inputs, attrs) = (&r.inputs, &r.attrs);
    match stack.resources[name].schema.name {
        // The name, where the physical id is the ARN.
        "aws.ecs_cluster" => text(inputs, "name").to_owned(),
        "aws.ecs_service" => {
            let cluster_arn = text(inputs, "cluster");
            let cluster = cluster_arn.rsplit('/').next().unwrap();
            format!("{cluster}/{}", text(inputs, "name"))
        }
        "aws.task_definition" => format!("{}:{}", r.physical_id, attrs["revision"]),
        "aws.dns_record" => {
            let zone = text(inputs, "zone");
            format!(
                "{zone}/{}/{}",
                text(inputs, "name"),
                text(inputs, "record_type")
            )
        }
        "aws.hosted_zone" => format!("/hostedzone/{}", r.physical_id),
        // The ARN, where the physical id is the name.
        "aws.iam_role" => text(attrs, "arn").to_owned(),
        "aws.log_group" => format!("{}:*", text(attrs, "arn").trim_end_matches(":*")),
        "aws.ecr_repository" => text(attrs, "arn").to_owned(),
        _ => r.physical_id.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_imports_by_its_console_id_and_then_plans_clean() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = common::load(FIXTURE, &[], &[]);
    let mut d = Deployment::new(&aws, &stack);
    let first = d.plan(&stack).await;
    d.apply(&first).await;
    d.assert_clean(&stack).await;
    let (provider, applied) = (&d.provider, &d.state);

    // Into an empty state, dependencies first (their attributes resolve the references of
    // what depends on them).
    let mut state = State::new(&stack.name);
    let mut left: Vec<&str> = stack.resources.keys().map(String::as_str).collect();
    let mut types = std::collections::BTreeSet::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|n| {
                iac_engine::plan::dependencies_of(&stack.resources[*n])
                    .iter()
                    .all(|d| state.resources.contains_key(d))
            })
            .expect("a resource whose dependencies are imported");
        let name = left.remove(ready);
        let id = console_id(&stack, applied, name);
        let i = import::read(&stack, &state, provider.as_ref(), name, &id, false)
            .await
            .unwrap_or_else(|e| panic!("import `{name}` by `{id}`: {e}"));
        assert_eq!(
            i.object.physical_id, applied.resources[name].physical_id,
            "`{name}` imported by `{id}`"
        );
        types.insert(i.rtype.clone());
        state.apply(&[import::record(&stack, &i)]);
    }
    // Every AWS type iac manages (`iac.stack` reads another stack's state; an
    // `aws.ssm_parameter` is only ever looked up).
    let aws_types = iac_stack::schema::TYPES
        .iter()
        .filter(|t| t.name.starts_with("aws.") && !iac_stack::schema::lookup_only(t.name))
        .count();
    assert_eq!(types.len(), aws_types, "{types:?}");
    assert_clean(&make_plan(&stack, &state, provider).await);

    // The VPC's DNS attributes come from AWS, not from the stack's values.
    let vpc = &applied.resources["vpc"];
    let mut flipped = vpc.inputs.clone();
    flipped["dns_support"] = json!(true);
    flipped["dns_hostnames"] = json!(true);
    let read = provider
        .import("aws.vpc", "vpc", &vpc.physical_id, &flipped)
        .await
        .expect("import read")
        .expect("the VPC exists");
    assert_eq!(read.live.inputs["dns_support"], json!(false));
    assert_eq!(read.live.inputs["dns_hostnames"], json!(false));

    // Not there: no object, and the error says so.
    let e = import::read(
        &stack,
        &State::new(&stack.name),
        provider.as_ref(),
        "vpc",
        "vpc-0123456789abcdef0",
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, import::ImportError::NotFound { .. }), "{e:?}");
}
