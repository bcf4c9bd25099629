//! `aws.dns_record`: one Route 53 record set, either `ttl` + `values` or an `alias` to an
//! AWS resource such as the load balancer.
//!
//! Create is one CREATE, which never overwrites a record that exists (someone else's, most
//! likely: a record has no tags, so iac cannot tell); update is one UPSERT of the record
//! iac owns. Both are waited for until `INSYNC`. Delete reads the record first and sends it
//! back exactly, because Route 53 deletes only an exact match. The physical id is
//! `ZONE_NAME_TYPE` (e.g. `Z0123_shop.example.com_A`), which is all a record set has for an
//! identity; so a record found by `find` is this stack's only when it already has exactly
//! the value the stack wants.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, ChangeAction, ResourceRecord, ResourceRecordSet, RrType,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::{
    bare_zone_id, build_error, change, change_and_wait, delete_record, find_record, normal_name,
    zone_records,
};
use crate::resources::common::{
    bool_or, for_each_bounded, missing_input, name_taken, order_like, req_str, str_list,
    READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};

const RTYPE: &str = "aws.dns_record";

/// The TTL of a `values` record whose stack gives none.
const DEFAULT_TTL: i64 = 300;

/// The `aws.dns_record` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsRecord;

/// `ZONE_NAME_TYPE`; the zone id and the type never contain `_`, the name may.
pub(crate) fn record_id(zone: &str, name: &str, rtype: &str) -> String {
    format!("{}_{}_{rtype}", bare_zone_id(zone), normal_name(name))
}

/// The zone, name and type of a [`record_id`].
pub(crate) fn parse_record_id(id: &str) -> Option<(&str, &str, &str)> {
    let (zone, rest) = id.split_once('_')?;
    let (name, rtype) = rest.rsplit_once('_')?;
    (!zone.is_empty() && !name.is_empty() && !rtype.is_empty()).then_some((zone, name, rtype))
}

/// A TXT value as Route 53 wants it: in double quotes.
fn quote_txt(value: &str) -> String {
    if value.starts_with('"') {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('"', "\\\""))
    }
}

/// An alias target as compared: `dualstack.` is how Route 53 may spell an ALB alias.
fn normal_target(name: &str) -> String {
    let n = normal_name(name);
    n.strip_prefix("dualstack.").map(str::to_owned).unwrap_or(n)
}

/// A required field of `alias`.
fn alias_field<'a>(alias: &'a Json, field: &str) -> Result<&'a str, ProviderError> {
    alias
        .get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| missing_input(RTYPE, &format!("alias.{field}")))
}

/// The record set the inputs describe.
fn record_set(inputs: &Json) -> Result<ResourceRecordSet, ProviderError> {
    let name = req_str(inputs, RTYPE, "name")?;
    let rtype = req_str(inputs, RTYPE, "record_type")?;
    let mut set = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::from(rtype));
    if let Some(alias) = inputs.get("alias").filter(|a| a.is_object()) {
        let target = AliasTarget::builder()
            .dns_name(alias_field(alias, "dns_name")?)
            .hosted_zone_id(alias_field(alias, "zone_id")?)
            .evaluate_target_health(bool_or(alias, "evaluate_target_health", true))
            .build()
            .map_err(|e| build_error("alias target", e))?;
        set = set.alias_target(target);
    } else {
        let values = str_list(inputs, "values");
        if values.is_empty() {
            return Err(missing_input(RTYPE, "values"));
        }
        set = set.ttl(
            inputs
                .get("ttl")
                .and_then(Json::as_i64)
                .unwrap_or(DEFAULT_TTL),
        );
        for value in values {
            let value = if rtype == "TXT" {
                quote_txt(&value)
            } else {
                value
            };
            set = set.resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(|e| build_error("record value", e))?,
            );
        }
    }
    set.build().map_err(|e| build_error("record set", e))
}

/// Whether the live record set already has exactly the value of `want` (the record set the
/// inputs describe): the same alias target, or the same TTL and values.
fn has_value(live: &ResourceRecordSet, want: &ResourceRecordSet) -> bool {
    match (live.alias_target(), want.alias_target()) {
        (Some(l), Some(w)) => {
            normal_target(l.dns_name()) == normal_target(w.dns_name())
                && l.hosted_zone_id() == w.hosted_zone_id()
                && l.evaluate_target_health() == w.evaluate_target_health()
        }
        (None, None) => live.ttl() == want.ttl() && values_of(live) == values_of(want),
        _ => false,
    }
}

/// The values of a record set, sorted (their order is no difference).
fn values_of(set: &ResourceRecordSet) -> Vec<&str> {
    let mut values: Vec<&str> = set.resource_records().iter().map(|r| r.value()).collect();
    values.sort_unstable();
    values
}

/// A live record's value for a message: ``the value `1.2.3.4` (TTL 300)`` or ``the alias
/// `x.elb.amazonaws.com` ``.
fn value_text(set: &ResourceRecordSet) -> String {
    match set.alias_target() {
        Some(target) => format!("the alias `{}`", normal_name(target.dns_name())),
        None => format!(
            "the value `{}` (TTL {})",
            values_of(set).join(", "),
            set.ttl().unwrap_or_default()
        ),
    }
}

/// The error of a create whose record exists already: a `Conflict` naming it and its value.
fn record_exists(zone: &str, name: &str, rtype: &str, live: &ResourceRecordSet) -> ProviderError {
    name_taken(&format!(
        "DNS record `{name}` {rtype} with {} in hosted zone `{}`",
        value_text(live),
        bare_zone_id(zone)
    ))
}

/// The live record in the stack's shape; names and values AWS spells differently from the
/// stack (final dot, case, TXT quotes) are given back as the stack wrote them.
fn live_inputs(set: &ResourceRecordSet, zone: &str, last: &Json) -> Json {
    let mut inputs = Map::new();
    let zone = match last.get("zone").and_then(Json::as_str) {
        Some(z) if bare_zone_id(z) == zone => z.to_owned(),
        _ => zone.to_owned(),
    };
    inputs.insert("zone".into(), json!(zone));
    let name = match last.get("name").and_then(Json::as_str) {
        Some(n) if normal_name(n) == normal_name(set.name()) => n.to_owned(),
        _ => normal_name(set.name()),
    };
    inputs.insert("name".into(), json!(name));
    inputs.insert("record_type".into(), json!(set.r#type().as_str()));
    if let Some(target) = set.alias_target() {
        let last_alias = last.get("alias");
        let dns_name = match last_alias
            .and_then(|a| a.get("dns_name"))
            .and_then(Json::as_str)
        {
            Some(d) if normal_target(d) == normal_target(target.dns_name()) => d.to_owned(),
            _ => normal_name(target.dns_name()),
        };
        inputs.insert(
            "alias".into(),
            json!({
                "dns_name": dns_name,
                "zone_id": target.hosted_zone_id(),
                "evaluate_target_health": target.evaluate_target_health(),
            }),
        );
    } else {
        // A stack without `ttl` got the default; that is not drift.
        if let Some(ttl) = set
            .ttl()
            .filter(|t| last.get("ttl").is_some() || *t != DEFAULT_TTL)
        {
            inputs.insert("ttl".into(), json!(ttl));
        }
        let is_txt = set.r#type() == &RrType::Txt;
        // Each live value in the form the stack wrote it, when they mean the same.
        let written: BTreeMap<String, String> = str_list(last, "values")
            .into_iter()
            .map(|v| (if is_txt { quote_txt(&v) } else { v.clone() }, v))
            .collect();
        let values: Vec<String> = set
            .resource_records()
            .iter()
            .map(|r| {
                written
                    .get(r.value())
                    .cloned()
                    .unwrap_or_else(|| r.value().to_owned())
            })
            .collect();
        inputs.insert(
            "values".into(),
            json!(order_like(values, last.get("values"))),
        );
    }
    Json::Object(inputs)
}

fn attrs_of(inputs: &Json) -> Json {
    json!({ "fqdn": inputs.get("name").and_then(Json::as_str).map(normal_name).unwrap_or_default() })
}

#[async_trait]
impl ResourceType for DnsRecord {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // One listing per zone, however many of the stack's records are in it.
        let names: BTreeSet<&str> = requests
            .iter()
            .filter_map(|req| Some(parse_record_id(&req.physical_id)?.0))
            .collect();
        // The zones' listings are independent: sent concurrently.
        let listed =
            for_each_bounded(&names, READ_CONCURRENCY, |zone| zone_records(cx, zone)).await?;
        let zones: HashMap<&str, Option<HashMap<(String, String), ResourceRecordSet>>> =
            names.iter().copied().zip(listed).collect();
        Ok(requests
            .iter()
            .map(|req| {
                let (zone, name, rtype) = parse_record_id(&req.physical_id)?;
                let set = zones
                    .get(zone)?
                    .as_ref()?
                    .get(&(normal_name(name), rtype.to_owned()))?;
                let inputs = live_inputs(set, zone, &req.last_inputs);
                let attrs = attrs_of(&inputs);
                Some(Live { inputs, attrs })
            })
            .collect())
    }

    /// By `ZONE_ID/NAME/TYPE`.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let physical_id = match id.split('/').collect::<Vec<_>>().as_slice() {
            [zone, record, rtype] => record_id(zone, record, rtype),
            _ => id.to_owned(),
        };
        read_one(self, cx, name, &physical_id, desired, json!({})).await
    }

    /// By zone, name and type. A record has no tags: it is this stack's only when it
    /// already has exactly the value the inputs ask for (same alias target, or same TTL
    /// and values); otherwise it is someone else's, described by its value.
    async fn find(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let zone = req_str(inputs, RTYPE, "zone")?;
        let name = req_str(inputs, RTYPE, "name")?;
        let rtype = req_str(inputs, RTYPE, "record_type")?;
        let Some(set) = find_record(cx, zone, name, rtype).await? else {
            return Ok(None);
        };
        let live = live_inputs(&set, bare_zone_id(zone), inputs);
        let foreign = (!has_value(&set, &record_set(inputs)?)).then(|| value_text(&set));
        Ok(Some(Existing {
            physical_id: record_id(zone, name, rtype),
            live: Live {
                attrs: attrs_of(&live),
                inputs: live,
            },
            foreign,
        }))
    }

    /// One CREATE, never an UPSERT: a record that exists (whoever made it, whatever its
    /// value) makes the create fail with `Conflict`, changing nothing. Route 53 answers a
    /// CREATE of an existing record with `InvalidChangeBatch`; the emulator accepts it and
    /// keeps both, so the record is also looked up first.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let zone = req_str(inputs, RTYPE, "zone")?;
        let name = req_str(inputs, RTYPE, "name")?;
        let rtype = req_str(inputs, RTYPE, "record_type")?;
        let set = record_set(inputs)?;
        if let Some(live) = find_record(cx, zone, name, rtype).await? {
            return Err(record_exists(zone, name, rtype, &live));
        }
        let batch = vec![change(ChangeAction::Create, set)?];
        if let Err(e) = change_and_wait(cx, op, zone, batch, &format!("iac: {rtype} {name}")).await
        {
            // Made by someone else between the lookup and the CREATE.
            if e.code() == Some("InvalidChangeBatch") {
                if let Some(live) = find_record(cx, zone, name, rtype).await? {
                    return Err(record_exists(zone, name, rtype, &live));
                }
            }
            return Err(e);
        }
        Ok(Created {
            physical_id: record_id(zone, name, rtype),
            attrs: attrs_of(inputs),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _old: &Json,
        new: &Json,
        _changed: &[String],
    ) -> Result<Json, ProviderError> {
        // Zone, name and type force a new record, so the UPSERT replaces this very record.
        let zone = parse_record_id(id).map(|(z, _, _)| z).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("`{id}` is not a record id (`ZONE_NAME_TYPE`)"),
            )
        })?;
        let batch = vec![change(ChangeAction::Upsert, record_set(new)?)?];
        let name = new.get("name").and_then(Json::as_str).unwrap_or_default();
        change_and_wait(cx, op, zone, batch, &format!("iac: update {name}")).await?;
        Ok(attrs_of(new))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let (zone, name, rtype) = parse_record_id(id).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("`{id}` is not a record id (`ZONE_NAME_TYPE`)"),
            )
        })?;
        delete_record(cx, op, zone, name, rtype).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_round_trip_names_with_underscores() {
        let id = record_id("/hostedzone/Z1", "_abc.Example.com.", "CNAME");
        assert_eq!(id, "Z1__abc.example.com_CNAME");
        assert_eq!(
            parse_record_id(&id),
            Some(("Z1", "_abc.example.com", "CNAME"))
        );
        assert_eq!(parse_record_id("nonsense"), None);
    }

    #[test]
    fn a_live_record_in_aws_spelling_is_no_drift() {
        let last = json!({
            "zone": "Z1", "name": "Shop.example.com", "record_type": "A",
            "alias": {"dns_name": "my-alb-1.us-east-1.elb.amazonaws.com", "zone_id": "Z35", "evaluate_target_health": true}
        });
        let live = ResourceRecordSet::builder()
            .name("shop.example.com.")
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .dns_name("dualstack.my-alb-1.us-east-1.elb.amazonaws.com.")
                    .hosted_zone_id("Z35")
                    .evaluate_target_health(true)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(live_inputs(&live, "Z1", &last), last);

        let txt_last = json!({"zone": "Z1", "name": "t.example.com", "record_type": "TXT", "ttl": 60, "values": ["hello"]});
        let set = record_set(&txt_last).unwrap();
        assert_eq!(set.resource_records()[0].value(), "\"hello\"");
        assert_eq!(live_inputs(&set, "Z1", &txt_last), txt_last);
    }
}
