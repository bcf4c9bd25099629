//! The extra certificates of an HTTPS listener (`certificates:` of `aws.listener`), which
//! ELB serves by the name the client asks for (SNI), besides the default `certificate`.
//!
//! They are not part of CreateListener or ModifyListener (whose `Certificates` sets the
//! default one only): AddListenerCertificates and RemoveListenerCertificates change them, and
//! DescribeListenerCertificates reads them, with the default one marked `IsDefault`, which
//! the read leaves out. The list is exact: a certificate added outside iac is drift.
//!
//! Emulator gap (moto 5.2.5): ModifyListener with `Certificates` replaces every certificate
//! of the listener, SNI ones included (AWS keeps them); [`sync`], run on every update of a
//! listener that has some, puts them back, so an update of the listener keeps them on both
//! (crates/iac-aws/tests/listener_rules.rs changes the listener's action to check it).

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{Certificate, Listener as SdkListener, ProtocolEnum};
use iac_engine::provider::ProviderError;
use serde_json::{json, Value as Json};

use crate::resources::common::{for_each_bounded, order_like, paged, READ_CONCURRENCY};
use crate::resources::{touches, Cx};
use crate::Service;

/// The `certificates` the inputs ask for.
pub(crate) fn wanted(inputs: &Json) -> Vec<String> {
    crate::resources::common::str_list(inputs, "certificates")
}

/// The SNI certificates of the listener `arn` (the default one left out), all pages.
pub(crate) async fn read(
    cx: &Cx,
    arn: &str,
    default: Option<&str>,
) -> Result<Vec<String>, ProviderError> {
    let elbv2 = &cx.aws.clients().elbv2;
    let all = paged!(
        cx,
        Elbv2,
        "DescribeListenerCertificates",
        elbv2.describe_listener_certificates().listener_arn(arn),
        set_marker,
        next_marker,
        certificates
    )
    .await?;
    let mut out: Vec<String> = all
        .iter()
        .filter(|c| c.is_default() != Some(true))
        .filter_map(|c| c.certificate_arn())
        .filter(|c| Some(*c) != default)
        .map(str::to_owned)
        .collect();
    out.dedup();
    Ok(out)
}

/// The SNI certificates of each HTTPS listener of `listeners`, by ARN, read concurrently.
pub(crate) async fn read_all(
    cx: &Cx,
    listeners: &[&SdkListener],
) -> Result<HashMap<String, Vec<String>>, ProviderError> {
    let https: Vec<(&str, Option<&str>)> = listeners
        .iter()
        .filter(|l| l.protocol() == Some(&ProtocolEnum::Https))
        .filter_map(|l| {
            let default = l.certificates().first().and_then(|c| c.certificate_arn());
            Some((l.listener_arn()?, default))
        })
        .collect();
    let read = for_each_bounded(https.iter(), READ_CONCURRENCY, |(arn, default)| {
        read(cx, arn, *default)
    })
    .await?;
    Ok(https
        .iter()
        .map(|(arn, _)| arn.to_string())
        .zip(read)
        .collect())
}

/// Puts the live SNI certificates into a listener's live `inputs`, in the order the last
/// inputs had them; none live and none asked for leaves the key out.
pub(crate) fn put(inputs: &mut Json, live: Option<&Vec<String>>, last: &Json) {
    let live = live.cloned().unwrap_or_default();
    let last = last.get("certificates");
    if live.is_empty() && last.is_none() {
        return;
    }
    if let Some(m) = inputs.as_object_mut() {
        m.insert("certificates".into(), json!(order_like(live, last)));
    }
}

fn certs(arns: &[String]) -> Vec<Certificate> {
    arns.iter()
        .map(|a| Certificate::builder().certificate_arn(a).build())
        .collect()
}

/// Brings the SNI certificates of the listener `arn` to what `inputs` ask for, when they ask
/// for some or `changed` (the paths an update changes) names them; else no call.
pub(crate) async fn sync(
    cx: &Cx,
    arn: &str,
    inputs: &Json,
    changed: &[String],
) -> Result<(), ProviderError> {
    let want = wanted(inputs);
    if want.is_empty() && !touches(changed, "certificates") {
        return Ok(());
    }
    let default = inputs.get("certificate").and_then(Json::as_str);
    let live = read(cx, arn, default).await?;
    let add: Vec<String> = want.iter().filter(|c| !live.contains(c)).cloned().collect();
    let remove: Vec<String> = live.iter().filter(|c| !want.contains(c)).cloned().collect();
    let elbv2 = &cx.aws.clients().elbv2;
    if !add.is_empty() {
        elbv2
            .add_listener_certificates()
            .listener_arn(arn)
            .set_certificates(Some(certs(&add)))
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "AddListenerCertificates"))?;
    }
    if !remove.is_empty() {
        elbv2
            .remove_listener_certificates()
            .listener_arn(arn)
            .set_certificates(Some(certs(&remove)))
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "RemoveListenerCertificates"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_certificates_take_the_stacks_order_and_none_is_left_out() {
        let mut inputs = json!({});
        put(&mut inputs, Some(&vec![]), &json!({}));
        assert_eq!(inputs, json!({}));
        let live = vec!["arn:b".to_owned(), "arn:a".to_owned()];
        put(
            &mut inputs,
            Some(&live),
            &json!({"certificates": ["arn:a", "arn:b"]}),
        );
        assert_eq!(inputs, json!({"certificates": ["arn:a", "arn:b"]}));
        // Added outside iac, to a listener whose stack lists none: drift, shown.
        let mut inputs = json!({});
        put(&mut inputs, Some(&live), &json!({}));
        assert_eq!(inputs["certificates"].as_array().unwrap().len(), 2);
    }
}
