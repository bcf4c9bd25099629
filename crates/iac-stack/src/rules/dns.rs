//! Route 53 records and ACM validation: names outside their hosted zone (ChangeResourceRecordSets
//! refuses them; a certificate validated in the wrong zone waits for records nobody can
//! answer), and records that are neither clearly plain (`ttl` + `values`) nor clearly alias.

use super::{items, key_span, set, written, Ctx};
use crate::model::Resource;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for rec in cx.of_type("aws.dns_record") {
        record_shape(cx, rec, diags);
        record_in_zone(cx, rec, diags);
    }
    for cert in cx.of_type("aws.certificate") {
        certificate_in_zone(cx, cert, diags);
    }
}

/// `WWW.Example.com.` -> `www.example.com`: DNS names compare without case or the root dot.
fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn inside(name: &str, zone: &str) -> bool {
    let (n, z) = (norm(name), norm(zone));
    n == z || n.ends_with(&format!(".{z}"))
}

/// The zone a resource's `prop` references, with its known name.
fn zone<'a>(cx: &Ctx<'a>, r: &'a Resource, prop: &str) -> Option<(&'a Resource, &'a str)> {
    let z = set(r, prop).and_then(|v| cx.target(v, "aws.hosted_zone"))?;
    let name = z.prop("name").and_then(|v| cx.known_str(v))?;
    Some((z, name))
}

fn record_in_zone(cx: &Ctx, rec: &Resource, diags: &mut Diagnostics) {
    let Some((z, zname)) = zone(cx, rec, "zone") else {
        return;
    };
    let Some(name) = set(rec, "name").and_then(|v| cx.known_str(v)) else {
        return;
    };
    if inside(name, zname) {
        return;
    }
    let first = norm(name);
    let first = first.split('.').next().unwrap_or("www");
    diags.push(
        cx.error(
            "iac::dns_record::outside_zone",
            format!(
                "record name `{name}` of `{}` is not inside its zone `{zname}`",
                rec.name
            ),
        )
        .label(rec.span_of("name"), format!("not under `{zname}`"))
        .label(z.span_of("name"), format!("zone `{}`", z.name))
        .help(format!(
            "use a name ending in `{}` (e.g. `{first}.{}`), or put the record in the zone that holds `{name}`",
            norm(zname),
            norm(zname)
        )),
    );
}

fn record_shape(cx: &Ctx, rec: &Resource, diags: &mut Diagnostics) {
    let values = set(rec, "values").is_some();
    let alias = set(rec, "alias").is_some();
    if values && alias {
        diags.push(
            cx.error(
                "iac::dns_record::values_and_alias",
                format!("record `{}` has both `values` and `alias`", rec.name),
            )
            .label(key_span(rec, "alias"), "an alias")
            .label(key_span(rec, "values"), "values as well")
            .help("keep `alias` (pointing at an AWS resource such as a load balancer) or `ttl` + `values`, not both"),
        );
        return;
    }
    if !values && !alias {
        diags.push(
            cx.error(
                "iac::dns_record::missing_values",
                format!("record `{}` has neither `values` nor `alias`", rec.name),
            )
            .label(rec.spans.name, "what should this record answer?")
            .help("add `ttl: 300` with `values: [...]`, or `alias: {dns_name: ${alb.dns_name}, zone_id: ${alb.zone_id}}`"),
        );
        return;
    }
    if alias && written(rec, "ttl") {
        diags.push(
            cx.error(
                "iac::dns_record::ttl_with_alias",
                format!("alias record `{}` has a `ttl`", rec.name),
            )
            .label(key_span(rec, "ttl"), "alias records take the target's TTL")
            .label(key_span(rec, "alias"), "alias here")
            .help("remove `ttl`"),
        );
    }
    if values && set(rec, "ttl").is_none() {
        diags.push(
            cx.error(
                "iac::dns_record::values_without_ttl",
                format!("record `{}` lists `values` but has no `ttl`", rec.name),
            )
            .label(key_span(rec, "values"), "a record with values needs a TTL")
            .help("add `ttl: 300` (seconds resolvers may cache the answer)"),
        );
    }
}

fn certificate_in_zone(cx: &Ctx, cert: &Resource, diags: &mut Diagnostics) {
    let Some((z, zname)) = zone(cx, cert, "validation_zone") else {
        return;
    };
    let mut names: Vec<(String, &str)> = Vec::new();
    if let Some(d) = set(cert, "domain").and_then(|v| cx.known_str(v)) {
        names.push(("domain".into(), d));
    }
    for (path, v) in items(cert, "alternative_names") {
        if let Some(d) = cx.known_str(v) {
            names.push((path, d));
        }
    }
    for (path, domain) in names {
        let bare = domain.trim().strip_prefix("*.").unwrap_or(domain);
        if inside(bare, zname) {
            continue;
        }
        diags.push(
            cx.error(
                "iac::certificate::domain_outside_zone",
                format!(
                    "certificate `{}` is for `{domain}`, which its validation zone `{zname}` cannot validate",
                    cert.name
                ),
            )
            .label(cert.span_of(&path), format!("not under `{zname}`"))
            .label(z.span_of("name"), format!("validation zone `{}`", z.name))
            .help(format!(
                "ACM would wait forever for a validation record of `{domain}`: use a name under `{}`, or set `validation_zone` to the zone that holds `{domain}`",
                norm(zname)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as J};

    use crate::rules::testkit::Kit;

    fn kit(record: J) -> Kit {
        let mut k = Kit::new("dns");
        k.add("zone", "aws.hosted_zone", json!({"name": "example.com."}))
            .existing = true;
        k.add("rec", "aws.dns_record", record);
        k
    }

    #[test]
    fn records_inside_the_zone_pass() {
        for name in ["example.com", "WWW.example.com.", "a.b.example.com"] {
            let k = kit(
                json!({"zone": "${zone.id}", "name": name, "record_type": "A",
                               "ttl": 300, "values": ["192.0.2.1"]}),
            );
            assert!(k.codes().is_empty(), "{name}: {:?}", k.codes());
        }
    }

    #[test]
    fn record_outside_zone() {
        let k = kit(
            json!({"zone": "${zone.id}", "name": "www.example.org", "record_type": "A",
                           "ttl": 300, "values": ["192.0.2.1"]}),
        );
        let d = k.one("iac::dns_record::outside_zone");
        assert_eq!(k.labels(&d), ["rec:name", "zone:name"]);
        assert!(d.help.unwrap().contains("`www.example.com`"));
        // `badexample.com` ends with the zone's text but is not inside it.
        let k = kit(
            json!({"zone": "${zone.id}", "name": "badexample.com", "record_type": "A",
                           "ttl": 300, "values": ["192.0.2.1"]}),
        );
        assert_eq!(k.codes(), ["iac::dns_record::outside_zone"]);
    }

    #[test]
    fn values_alias_and_ttl() {
        let alias = json!({"dns_name": "x.elb.amazonaws.com", "zone_id": "Z1"});
        let k = kit(
            json!({"zone": "${zone.id}", "name": "example.com", "record_type": "A",
                           "ttl": 60, "values": ["192.0.2.1"], "alias": alias}),
        );
        assert_eq!(k.codes(), ["iac::dns_record::values_and_alias"]);
        let k = kit(json!({"zone": "${zone.id}", "name": "example.com", "record_type": "A"}));
        assert_eq!(k.codes(), ["iac::dns_record::missing_values"]);
        let k = kit(
            json!({"zone": "${zone.id}", "name": "example.com", "record_type": "A",
                           "ttl": 60, "alias": alias}),
        );
        assert_eq!(k.codes(), ["iac::dns_record::ttl_with_alias"]);
        let k = kit(
            json!({"zone": "${zone.id}", "name": "example.com", "record_type": "A",
                           "alias": alias}),
        );
        assert!(k.codes().is_empty());
    }

    #[test]
    fn certificate_names_must_be_in_the_validation_zone() {
        let mut k = Kit::new("dns");
        k.add("zone", "aws.hosted_zone", json!({"name": "example.com"}))
            .existing = true;
        k.add(
            "cert",
            "aws.certificate",
            json!({"domain": "*.example.com", "validation_zone": "${zone.id}",
                   "alternative_names": ["example.com", "shop.example.net"]}),
        );
        assert_eq!(
            k.labels_of("iac::certificate::domain_outside_zone"),
            ["cert:alternative_names[1]", "zone:name"]
        );
    }
}
