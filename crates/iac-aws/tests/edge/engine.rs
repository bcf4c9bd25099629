//! Through the engine: plan, apply, plan clean, change in place, replace the target group
//! a listener forwards to, destroy.

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, RedirectActionStatusCodeEnum};

use iac_engine::{render_plan, Action, ReplaceStrategy};
use iac_stack::Stack;
use iac_testkit::Emulator;

use crate::common::{self, listener_on, updated, Deployment};

/// The fixture with `vars` and `edits` (see [`common::load`]).
fn load(vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
    common::load("tests/fixtures/aws/edge_stack.yaml", vars, edits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_applies_plans_clean_updates_in_place_replaces_the_target_group_and_is_destroyed()
{
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let clients = aws.clients().clone();

    // The zone the stack looks up exists before it and outlives it.
    let zone_id = common::create_zone(&clients, "example.com", "made-before-the-stack").await;

    let stack = load(&[], &[]);
    let mut d = Deployment::new(&aws, &stack);
    let first = d.plan(&stack).await;
    d.apply(&first).await;
    assert_eq!(d.id("zone"), zone_id);

    // Live: 80 redirects to 443 with a 301, 443 forwards with the issued certificate,
    // the alias points at the load balancer.
    let listeners = common::listeners_of(&clients, &d.id("alb")).await;
    let redirect = listener_on(&listeners, 80).default_actions()[0]
        .redirect_config()
        .cloned()
        .expect("a redirect");
    assert_eq!(
        (redirect.protocol(), redirect.port(), redirect.status_code()),
        (
            Some("HTTPS"),
            Some("443"),
            Some(&RedirectActionStatusCodeEnum::Http301)
        )
    );
    let https = listener_on(&listeners, 443);
    assert_eq!(
        https.certificates()[0].certificate_arn(),
        Some(d.id("cert").as_str())
    );
    assert_eq!(
        https.default_actions()[0].r#type(),
        Some(&ActionTypeEnum::Forward)
    );
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        Some(d.id("web_tg").as_str())
    );
    let records = super::records_of(&clients, &zone_id).await;
    let alb_dns = d.state.resources["alb"].attrs["dns_name"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert_eq!(
        records.get("lemonmart.example.com A").map(String::as_str),
        Some(alb_dns.as_str())
    );
    d.assert_clean(&stack).await;

    // The health check path, the redirect status and the record's target: three updates.
    let site_edit = [(
        "dns_name: ${alb.dns_name}",
        "dns_name: ${admin_alb.dns_name}",
    )];
    let changed = load(
        &[("health_path", "/ready"), ("redirect_status", "302")],
        &site_edit,
    );
    d.change(
        &changed,
        vec![
            updated("web_tg", &["health_check.path"]),
            updated("http", &["redirect.status"]),
            updated("site", &["alias.dns_name"]),
        ],
    )
    .await;
    d.assert_clean(&changed).await;
    let admin_dns = d.state.resources["admin_alb"].attrs["dns_name"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    let records = super::records_of(&clients, &zone_id).await;
    assert_eq!(
        records.get("lemonmart.example.com A").map(String::as_str),
        Some(admin_dns.as_str())
    );

    // A new port replaces the target group the HTTPS listener forwards to: the new group
    // is created first, the listener moves to it, then the old one is deleted.
    let old_tg = d.id("web_tg");
    let moved = load(
        &[
            ("health_path", "/ready"),
            ("redirect_status", "302"),
            ("tg_port", "8080"),
        ],
        &site_edit,
    );
    let plan_moved = d.plan(&moved).await;
    let rendered = render_plan(&plan_moved, false);
    eprintln!("{rendered}");
    let tg_change = plan_moved
        .changes
        .iter()
        .find(|c| c.name == "web_tg")
        .expect("web_tg");
    assert_eq!(tg_change.action, Action::Replace, "{rendered}");
    assert_eq!(
        tg_change.replace.as_ref().map(|r| r.strategy),
        Some(ReplaceStrategy::CreateBeforeDestroy),
        "{rendered}"
    );
    let https_change = plan_moved
        .changes
        .iter()
        .find(|c| c.name == "https")
        .expect("https");
    assert_eq!(https_change.action, Action::Update, "{rendered}");
    // The old group still holds the default name: the plan picks a fresh one for the new.
    let new_name = tg_change
        .replace
        .as_ref()
        .and_then(|r| r.new_name.clone())
        .expect("a fresh name in the plan");
    assert!(new_name.starts_with("edge-engine-web-tg-"), "{new_name}");
    assert!(rendered.contains(&new_name), "{rendered}");
    d.apply(&plan_moved).await;
    let new_tg = d.id("web_tg");
    assert_ne!(new_tg, old_tg);
    assert_eq!(
        super::target_group_ports(&clients).await,
        [(new_tg.clone(), 8080)],
        "the old group is gone"
    );
    let live_name = common::target_group(&clients, &new_tg)
        .await
        .target_group_name()
        .map(str::to_owned);
    assert_eq!(live_name.as_deref(), Some(new_name.as_str()));
    let listeners = common::listeners_of(&clients, &d.id("alb")).await;
    let https = listener_on(&listeners, 443);
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        Some(new_tg.as_str())
    );
    d.assert_clean(&moved).await;

    // Destroy: no balancer, group, certificate or record is left; the existing zone stays.
    d.destroy(&moved).await;
    assert_eq!(
        super::edge_leftovers_of(&clients).await,
        ["zone example.com."]
    );
    let records = super::records_of(&clients, &zone_id).await;
    assert!(
        records
            .keys()
            .all(|k| k.ends_with(" NS") || k.ends_with(" SOA")),
        "records left in the zone: {records:?}"
    );
}
