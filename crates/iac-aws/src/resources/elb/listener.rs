//! `aws.listener`: a port of a load balancer and the one thing it does with requests:
//! forward to a target group, redirect (HTTP to HTTPS), or answer with a fixed response.
//!
//! Port, protocol, certificate, SSL policy and the action all change in place with one
//! ModifyListener; only moving to another load balancer makes a new listener.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, Listener as SdkListener,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::update_tags;
use crate::resources::common::{
    absent_is_none, find_existing, malformed, missing_input, name_taken, owned_str, paged, req_str,
    sdk_tags_of, tags_json,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.listener";

/// The SSL policy the stack format defaults to.
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The `aws.listener` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listener;

/// The load balancer a listener ARN belongs to:
/// `arn:...:listener/app/NAME/LB_ID/LISTENER_ID` -> `arn:...:loadbalancer/app/NAME/LB_ID`.
pub(crate) fn load_balancer_of(listener_arn: &str) -> Option<String> {
    let (head, rest) = listener_arn.split_once(":listener/")?;
    let (lb_path, _listener_id) = rest.rsplit_once('/')?;
    Some(format!("{head}:loadbalancer/{lb_path}"))
}

/// Redirect and fixed-response status codes arrive as a number or a digit string
/// (`status: 301` and `status: "301"` mean the same).
fn status_text(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The listener's one default action, from whichever of `forward`, `redirect` and
/// `fixed_response` the inputs hold.
pub(crate) fn action_of(inputs: &Json) -> Result<Action, ProviderError> {
    if let Some(tg) = inputs.get("forward").and_then(Json::as_str) {
        return Ok(Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(tg)
            .build());
    }
    if let Some(r) = inputs.get("redirect").filter(|r| r.is_object()) {
        let text = |k: &str| r.get(k).and_then(Json::as_str);
        let port = r.get("port").map(|p| match p {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        });
        let status = match status_text(r.get("status")).as_deref() {
            Some("302") => RedirectActionStatusCodeEnum::Http302,
            _ => RedirectActionStatusCodeEnum::Http301,
        };
        // Omitted parts keep the request's, written as ELB's placeholders.
        let config = RedirectActionConfig::builder()
            .protocol(text("protocol").unwrap_or("#{protocol}"))
            .port(port.unwrap_or_else(|| "#{port}".to_owned()))
            .host(text("host").unwrap_or("#{host}"))
            .path(text("path").unwrap_or("/#{path}"))
            .query(text("query").unwrap_or("#{query}"))
            .status_code(status)
            .build();
        return Ok(Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(config)
            .build());
    }
    if let Some(f) = inputs.get("fixed_response").filter(|f| f.is_object()) {
        let status = status_text(f.get("status"))
            .ok_or_else(|| missing_input(RTYPE, "fixed_response.status"))?;
        let config = FixedResponseActionConfig::builder()
            .status_code(status)
            .set_message_body(owned_str(f, "body"))
            .content_type(
                f.get("content_type")
                    .and_then(Json::as_str)
                    .unwrap_or("text/plain"),
            )
            .build();
        return Ok(Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(config)
            .build());
    }
    Err(ProviderError::new(
        ErrorKind::Fatal,
        "`aws.listener` was given none of `forward`, `redirect` and `fixed_response`; exactly one is required",
    ))
}

/// Certificate and SSL policy are sent only for HTTPS: ELB rejects them on HTTP.
fn tls_of(inputs: &Json) -> Result<(Option<Vec<Certificate>>, Option<String>), ProviderError> {
    if inputs.get("protocol").and_then(Json::as_str) != Some("HTTPS") {
        return Ok((None, None));
    }
    let cert = req_str(inputs, RTYPE, "certificate")?;
    let policy = inputs
        .get("ssl_policy")
        .and_then(Json::as_str)
        .unwrap_or(DEFAULT_SSL_POLICY);
    Ok((
        Some(vec![Certificate::builder().certificate_arn(cert).build()]),
        Some(policy.to_owned()),
    ))
}

fn port_of(inputs: &Json) -> Result<i32, ProviderError> {
    inputs
        .get("port")
        .and_then(Json::as_i64)
        .map(|p| p as i32)
        .ok_or_else(|| missing_input(RTYPE, "port"))
}

/// The live default action in the stack's shape, as the key (`forward`, ...) and value.
/// Fields the stack left out are left out when AWS has the placeholder that means "keep the
/// request's"; a status is written back as the stack wrote it (number or string).
pub(crate) fn live_action(action: &Action, last: &Json) -> Option<(&'static str, Json)> {
    match action.r#type()? {
        ActionTypeEnum::Forward => {
            let tg = action.target_group_arn().or_else(|| {
                action
                    .forward_config()
                    .and_then(|f| f.target_groups().first())
                    .and_then(|t| t.target_group_arn())
            })?;
            Some(("forward", json!(tg)))
        }
        ActionTypeEnum::Redirect => {
            let r = action.redirect_config()?;
            let last = last.get("redirect");
            let mut out = Map::new();
            let mut put = |key: &str, value: Option<&str>, placeholder: &str| {
                if let Some(v) = value.filter(|v| *v != placeholder) {
                    out.insert(key.to_owned(), json!(v));
                }
            };
            put("protocol", r.protocol(), "#{protocol}");
            put("host", r.host(), "#{host}");
            put("path", r.path(), "/#{path}");
            put("query", r.query(), "#{query}");
            if let Some(port) = r.port().filter(|p| *p != "#{port}") {
                out.insert(
                    "port".into(),
                    port.parse::<i64>()
                        .map_or_else(|_| json!(port), |p| json!(p)),
                );
            }
            let code = match r.status_code() {
                Some(RedirectActionStatusCodeEnum::Http302) => "302",
                _ => "301",
            };
            let status = match last.and_then(|l| l.get("status")) {
                Some(Json::Number(_)) => json!(code.parse::<i64>().unwrap_or(301)),
                _ => json!(code),
            };
            out.insert("status".into(), status);
            Some(("redirect", Json::Object(sort_like(out, last))))
        }
        ActionTypeEnum::FixedResponse => {
            let f = action.fixed_response_config()?;
            let last = last.get("fixed_response");
            let mut out = Map::new();
            let code = f.status_code()?;
            let status = match last.and_then(|l| l.get("status")) {
                Some(Json::String(_)) => json!(code),
                _ => code
                    .parse::<i64>()
                    .map_or_else(|_| json!(code), |c| json!(c)),
            };
            out.insert("status".into(), status);
            if let Some(body) = f.message_body() {
                out.insert("body".into(), json!(body));
            }
            out.insert(
                "content_type".into(),
                json!(f.content_type().unwrap_or("text/plain")),
            );
            Some(("fixed_response", Json::Object(sort_like(out, last))))
        }
        _ => None,
    }
}

/// `map` with the keys in the order `last` had them (cosmetic: diffs read like the stack).
fn sort_like(map: Map<String, Json>, last: Option<&Json>) -> Map<String, Json> {
    let order: BTreeMap<&str, usize> = last
        .and_then(Json::as_object)
        .map(|o| o.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect())
        .unwrap_or_default();
    let mut entries: Vec<(String, Json)> = map.into_iter().collect();
    entries.sort_by_key(|(k, _)| order.get(k.as_str()).copied().unwrap_or(usize::MAX));
    entries.into_iter().collect()
}

/// Every listener of the load balancer `lb_arn`, all pages; `None` when the balancer is gone.
async fn listeners_of(cx: &Cx, lb_arn: &str) -> Result<Option<Vec<SdkListener>>, ProviderError> {
    let elbv2 = &cx.aws.clients().elbv2;
    let listeners = paged!(
        cx,
        Elbv2,
        "DescribeListeners",
        elbv2.describe_listeners().load_balancer_arn(lb_arn),
        set_marker,
        next_marker,
        listeners
    )
    .await;
    absent_is_none(listeners)
}

/// The ARN of every listener of every load balancer of the account and region (for the
/// sweep); a balancer gone since it was listed has none.
pub(crate) async fn all_arns(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    for lb in
        super::describe::all_arns::<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>(cx).await?
    {
        let listeners = listeners_of(cx, &lb).await?.unwrap_or_default();
        out.extend(
            listeners
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_owned)),
        );
    }
    Ok(out)
}

/// The ARN of the listener on `port` of the load balancer `lb_arn` (a balancer has at most
/// one per port); `None` when there is none or the balancer is gone.
async fn arn_on_port(cx: &Cx, lb_arn: &str, port: i32) -> Result<Option<String>, ProviderError> {
    Ok(listeners_of(cx, lb_arn)
        .await?
        .unwrap_or_default()
        .iter()
        .filter(|l| l.port() == Some(port))
        .find_map(|l| l.listener_arn().map(str::to_owned)))
}

fn live_inputs(l: &SdkListener, last: &Json, tags: Vec<(String, String)>) -> Json {
    let mut inputs = Map::new();
    inputs.insert(
        "load_balancer".into(),
        json!(l.load_balancer_arn().unwrap_or_default()),
    );
    inputs.insert("port".into(), json!(l.port().unwrap_or_default()));
    let protocol = l.protocol().map(ProtocolEnum::as_str).unwrap_or_default();
    inputs.insert("protocol".into(), json!(protocol));
    if protocol == "HTTPS" {
        // The first certificate is the default one; the SNI ones (`certificates`) are read
        // apart (`listener_certificates`).
        if let Some(cert) = l.certificates().first().and_then(|c| c.certificate_arn()) {
            inputs.insert("certificate".into(), json!(cert));
        }
        if let Some(policy) = l.ssl_policy() {
            inputs.insert("ssl_policy".into(), json!(policy));
        }
    } else if let Some(policy) = last.get("ssl_policy") {
        // The policy is unused on HTTP and AWS keeps none: the stack's value is no drift.
        inputs.insert("ssl_policy".into(), policy.clone());
    }
    if let Some((key, value)) = l
        .default_actions()
        .first()
        .and_then(|a| live_action(a, last))
    {
        inputs.insert(key.into(), value);
    }
    inputs.insert("tags".into(), tags_json(tags));
    Json::Object(inputs)
}

#[async_trait]
impl ResourceType for Listener {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // One DescribeListeners per load balancer, however many listeners it has.
        let (found, tags) = super::list_by_parent(
            cx,
            requests,
            load_balancer_of,
            "load_balancer",
            |lb| async move { listeners_of(cx, &lb).await },
            |l: &SdkListener| l.listener_arn(),
        )
        .await?;
        let listed: Vec<&SdkListener> = super::live_ids(requests, &found)
            .iter()
            .filter_map(|a| found.get(a).map(|(_, l)| l))
            .collect();
        let sni = super::listener_certificates::read_all(cx, &listed).await?;
        Ok(requests
            .iter()
            .map(|req| {
                let (_, l) = found.get(&req.physical_id)?;
                let tags = tags.get(&req.physical_id).cloned().unwrap_or_default();
                let mut inputs = live_inputs(l, &req.last_inputs, tags);
                super::listener_certificates::put(
                    &mut inputs,
                    sni.get(&req.physical_id),
                    &req.last_inputs,
                );
                Some(Live {
                    inputs,
                    attrs: json!({ "arn": req.physical_id }),
                })
            })
            .collect())
    }

    /// By `load_balancer` and `port` (see `find`), whoever owns it: how an app stack finds a shared listener.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its load balancer and port; whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let lb = req_str(inputs, RTYPE, "load_balancer")?;
        let Some(arn) = arn_on_port(cx, lb, port_of(inputs)?).await? else {
            return Ok(None);
        };
        find_existing(self, cx, name, &arn, inputs).await
    }

    /// Fails with `Conflict`, changing nothing, when the balancer already listens on the
    /// port: ELB would answer a create with the same settings with that listener, whoever
    /// made it.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let (certificates, ssl_policy) = tls_of(inputs)?;
        let lb = req_str(inputs, RTYPE, "load_balancer")?;
        let port = port_of(inputs)?;
        if let Some(arn) = arn_on_port(cx, lb, port).await? {
            return Err(name_taken(&format!(
                "a listener on port {port} of load balancer `{lb}` (`{arn}`)"
            )));
        }
        let resp = cx
            .aws
            .clients()
            .elbv2
            .create_listener()
            .load_balancer_arn(lb)
            .port(port)
            .protocol(ProtocolEnum::from(req_str(inputs, RTYPE, "protocol")?))
            .set_certificates(certificates)
            .set_ssl_policy(ssl_policy)
            .default_actions(action_of(inputs)?)
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "CreateListener"))?;
        let arn = resp
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| malformed("CreateListener", "ListenerArn"))?
            .to_owned();
        op.progress(&format!("created listener `{arn}`"));
        super::listener_certificates::sync(cx, &arn, inputs, &[]).await?;
        Ok(Created {
            physical_id: arn.clone(),
            attrs: json!({ "arn": arn }),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        // Tags and SNI certificates have calls of their own.
        let only_tags = changed.iter().all(|c| {
            crate::resources::path_under(c, "tags")
                || crate::resources::path_under(c, "certificates")
        });
        if !only_tags {
            // One call sets everything, so port, protocol, certificate and action can never
            // be half-applied.
            let (certificates, ssl_policy) = tls_of(new)?;
            cx.aws
                .clients()
                .elbv2
                .modify_listener()
                .listener_arn(id)
                .port(port_of(new)?)
                .protocol(ProtocolEnum::from(req_str(new, RTYPE, "protocol")?))
                .set_certificates(certificates)
                .set_ssl_policy(ssl_policy)
                .default_actions(action_of(new)?)
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "ModifyListener"))?;
        }
        super::listener_certificates::sync(cx, id, new, changed).await?;
        if crate::resources::touches(changed, "tags") {
            update_tags(cx, id, old, new).await?;
        }
        Ok(json!({ "arn": id }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        cx.aws
            .clients()
            .elbv2
            .delete_listener()
            .listener_arn(id)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "DeleteListener"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_arn_names_its_load_balancer() {
        assert_eq!(
            load_balancer_of("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2")
                .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/shop-alb/50dc6c495c0c9188")
        );
        assert_eq!(
            load_balancer_of("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"),
            None
        );
    }

    #[test]
    fn a_redirect_round_trips_to_the_stack_shape() {
        let inputs = json!({"redirect": {"protocol": "HTTPS", "port": 443, "status": 301}});
        let action = action_of(&inputs).unwrap();
        let config = action.redirect_config().unwrap();
        assert_eq!(config.port(), Some("443"));
        assert_eq!(config.host(), Some("#{host}"));
        assert_eq!(
            config.status_code(),
            Some(&RedirectActionStatusCodeEnum::Http301)
        );
        assert_eq!(
            live_action(&action, &inputs),
            Some(("redirect", inputs["redirect"].clone()))
        );
        let as_text = json!({"redirect": {"protocol": "HTTPS", "port": 443, "status": "302"}});
        let action = action_of(&as_text).unwrap();
        assert_eq!(
            live_action(&action, &as_text),
            Some(("redirect", as_text["redirect"].clone()))
        );
    }

    #[test]
    fn a_fixed_response_round_trips_to_the_stack_shape() {
        let inputs =
            json!({"fixed_response": {"status": 404, "body": "no", "content_type": "text/plain"}});
        let action = action_of(&inputs).unwrap();
        assert_eq!(
            action.fixed_response_config().unwrap().status_code(),
            Some("404")
        );
        assert_eq!(
            live_action(&action, &inputs),
            Some(("fixed_response", inputs["fixed_response"].clone()))
        );
    }

    #[test]
    fn tls_settings_go_only_with_https() {
        let http = json!({"protocol": "HTTP", "ssl_policy": DEFAULT_SSL_POLICY});
        assert_eq!(tls_of(&http).unwrap(), (None, None));
        let https = json!({"protocol": "HTTPS", "certificate": "arn:cert"});
        let (certs, policy) = tls_of(&https).unwrap();
        assert_eq!(certs.unwrap()[0].certificate_arn(), Some("arn:cert"));
        assert_eq!(policy.as_deref(), Some(DEFAULT_SSL_POLICY));
        assert!(tls_of(&json!({"protocol": "HTTPS"})).is_err());
    }
}
