//! Through the engine: apply, plan clean, deploy a new image, scale, destroy.

use aws_sdk_ecs::types::TaskDefinitionStatus;

use iac_engine::render_plan;
use iac_stack::Stack;
use iac_testkit::Emulator;

use crate::common::{self, changes, updated, Deployment};

fn load(vars: &[(&str, &str)]) -> Stack {
    common::load("tests/fixtures/aws/app_stack.yaml", vars, &[])
}

/// Everything of stack `name` still live, as `kind id` strings, looked up by tag and by
/// name across every service the stacks use. Deleted clusters (INACTIVE) and the zone's
/// own NS and SOA records do not count; deregistered revisions not deleted do.
async fn leftovers(aws: &iac_aws::AwsContext, name: &str, zone_id: Option<&str>) -> Vec<String> {
    let zones: Vec<String> = zone_id.map(str::to_owned).into_iter().collect();
    common::stack_leftovers(aws.clients(), name, &zones).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_stack_deploys_a_new_image_scales_and_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;

    // Nothing changed: no new revision, and every read is one call.
    aws.requests().reset();
    d.assert_clean(&stack).await;
    for (op, n) in aws.requests().snapshot() {
        assert_eq!(n, 1, "{op} was called {n} times");
    }

    // CI deploys a new image: a new revision of the task definition and the service
    // moving to it, nothing else.
    let image2 = [("image", "public.ecr.aws/nginx/nginx:1.28")];
    let deploy = d.plan(&load(&image2)).await;
    assert_eq!(
        changes(&deploy),
        vec![
            updated("task", &["containers[0].image"]),
            updated("web", &["task_definition"]),
        ],
        "{}",
        render_plan(&deploy, false)
    );
    // The container definition's diff is the image line and nothing else: what AWS
    // reordered or filled in does not show.
    let rendered = render_plan(&deploy, false);
    let diff_lines: Vec<&str> = rendered
        .lines()
        .map(str::trim_start)
        .filter(|l| (l.starts_with("- ") || l.starts_with("+ ")) && l.contains('"'))
        .collect();
    assert_eq!(
        diff_lines,
        [
            "-     \"image\": \"public.ecr.aws/nginx/nginx:1.27\",",
            "+     \"image\": \"public.ecr.aws/nginx/nginx:1.28\","
        ],
        "{rendered}"
    );
    let rev1 = d.attr("task", "arn");
    d.apply(&deploy).await;
    let rev2 = d.attr("task", "arn");
    assert!(rev2.ends_with(":2"), "{rev2}");
    assert_eq!(d.state.resources["task"].physical_id, "app-engine-task");
    let ecs = aws.clients().ecs.clone();
    let service = ecs
        .describe_services()
        .cluster(d.id("cluster"))
        .services(d.id("web"))
        .send()
        .await
        .expect("DescribeServices");
    assert_eq!(service.services()[0].task_definition(), Some(rev2.as_str()));
    let old = ecs
        .describe_task_definition()
        .task_definition(&rev1)
        .send()
        .await
        .expect("DescribeTaskDefinition");
    assert_eq!(
        old.task_definition().and_then(|t| t.status()),
        Some(&TaskDefinitionStatus::Inactive),
        "the revision the service moved off is deregistered"
    );
    d.assert_clean(&load(&image2)).await;

    // Scale: only the desired count.
    let scaled = [("image", "public.ecr.aws/nginx/nginx:1.28"), ("tasks", "3")];
    d.change(&load(&scaled), vec![updated("web", &["desired_count"])])
        .await;
    d.assert_clean(&load(&scaled)).await;

    // Destroy: the service is gone (INACTIVE) before the cluster delete starts.
    let cluster_arn = d.id("cluster");
    let (destroy, events) = d.destroy(&load(&scaled)).await;
    assert_eq!(destroy.summary.destroy, stack.resources.len());
    // The service is gone before the cluster's delete starts; the role outlives its
    // task definitions.
    common::assert_deleted_before(&events, &[("web", "cluster"), ("task", "execution_role")]);

    // Nothing of the stack is left, by name and by tag.
    assert_eq!(
        common::cluster_status(aws.clients(), &cluster_arn)
            .await
            .as_deref(),
        Some("INACTIVE")
    );
    assert_eq!(
        leftovers(&aws, &stack.name, None).await,
        Vec::<String>::new()
    );
}

/// The whole example stack, as `just demo` runs it: apply from nothing, plan clean,
/// deploy a new image (a new revision and the service update, nothing else), scale,
/// destroy, and nothing of the stack left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemon_mart_deploys_a_new_image_and_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    // The hosted zone is `existing: true`: it must be there before.
    let zone_id = common::create_zone(aws.clients(), "example.com", "lemon-mart-test").await;
    let load = |vars: &[(&str, &str)]| common::load("stacks/lemon-mart.yaml", vars, &[]);
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    let first = d.plan(&stack).await;
    d.apply(&first).await;
    d.assert_clean(&stack).await;

    let image2 = [("image", "public.ecr.aws/nginx/nginx:1.28")];
    d.change(
        &load(&image2),
        vec![
            updated("task", &["containers[0].image"]),
            updated("web", &["task_definition"]),
        ],
    )
    .await;
    d.assert_clean(&load(&image2)).await;

    let scaled = [("image", "public.ecr.aws/nginx/nginx:1.28"), ("tasks", "3")];
    d.change(&load(&scaled), vec![updated("web", &["desired_count"])])
        .await;
    d.assert_clean(&load(&scaled)).await;

    let (_, events) = d.destroy(&load(&scaled)).await;
    common::assert_deleted_before(&events, &[("web", "cluster")]);
    assert_eq!(
        leftovers(&aws, &stack.name, Some(&zone_id)).await,
        Vec::<String>::new()
    );
    // The zone was only looked up: it stays.
    aws.clients()
        .route53
        .get_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .expect("the existing zone is kept");
}
