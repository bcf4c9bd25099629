//! The example stack itself, stacks/lemon-mart.yaml, through the engine: apply, plan clean,
//! the edge in place, a target group replaced while in use, destroy leaving only the zone.

use aws_sdk_elasticloadbalancingv2::types::RedirectActionStatusCodeEnum;

use iac_engine::{render_plan, Action};
use iac_testkit::Emulator;

use crate::common::{self, listener_on, Deployment};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_stack_applies_clean_replaces_its_target_group_in_use_and_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let clients = aws.clients().clone();
    let zone_id = common::create_zone(&clients, "example.com", "the-domain-owner").await;

    let stack = common::load("stacks/lemon-mart.yaml", &[], &[]);
    let mut d = Deployment::new(&aws, &stack);
    let first = d.plan(&stack).await;
    // Everything is created except the zone, which is looked up.
    let actions: Vec<(&str, Action)> = first
        .changes
        .iter()
        .map(|c| (c.name.as_str(), c.action))
        .collect();
    for (name, action) in &actions {
        let want = if *name == "zone" {
            Action::Read
        } else {
            Action::Create
        };
        assert_eq!(*action, want, "`{name}` in\n{}", render_plan(&first, false));
    }
    assert_eq!(actions.len(), stack.resources.len());
    d.apply(&first).await;

    let again = d.plan(&stack).await;
    assert_eq!(
        common::changes(&again),
        vec![],
        "{}",
        render_plan(&again, false)
    );

    let alb = d.id("alb");
    let listeners = common::listeners_of(&clients, &alb).await;
    let http = listener_on(&listeners, 80);
    let redirect = http.default_actions()[0]
        .redirect_config()
        .expect("a redirect");
    assert_eq!(
        redirect.status_code(),
        Some(&RedirectActionStatusCodeEnum::Http301)
    );
    let https = listener_on(&listeners, 443);
    assert_eq!(
        https.certificates()[0].certificate_arn(),
        Some(d.state.resources["cert"].physical_id.as_str())
    );
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        Some(d.state.resources["web_tg"].physical_id.as_str())
    );
    let records = super::records_of(&clients, &zone_id).await;
    let alb_dns = d.state.resources["alb"].attrs["dns_name"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert_eq!(records.get("lemonmart.example.com A"), Some(&alb_dns));

    // The app moves to port 8080: the target group is replaced while the HTTPS listener
    // and the service use it; the apply goes through and no old group is left.
    let old_tg = d.id("web_tg");
    let moved = common::load("stacks/lemon-mart.yaml", &[("container_port", "8080")], &[]);
    let replace = d.plan(&moved).await;
    eprintln!("{}", render_plan(&replace, false));
    d.apply(&replace).await;
    let new_tg = d.id("web_tg");
    assert_ne!(new_tg, old_tg);
    assert_eq!(
        super::target_group_ports(&clients).await,
        [(new_tg.clone(), 8080)]
    );

    d.destroy(&moved).await;
    assert_eq!(
        super::edge_leftovers_of(&clients).await,
        ["zone example.com."]
    );
}
