//! The fake world's own rules: AWS names held once, objects in use by others, ids, ARNs and
//! attributes of new objects from the type's schema.

use iac_stack::schema::{AttrKind, TypeSchema};
use serde_json::{json, Map, Value as Json};

use crate::provider::{ErrorKind, Existing, Live, ProviderError};

use super::*;

impl World {
    pub(super) fn schema(&self, rtype: &str) -> Option<&'static TypeSchema> {
        self.schemas
            .iter()
            .copied()
            .find(|s| s.name == rtype)
            .or_else(|| iac_stack::schema::lookup(rtype))
    }

    /// AWS keeps names unique per type (target groups, load balancers, clusters, roles):
    /// a create under a name a live object of the type holds fails, as on AWS.
    pub(super) fn name_taken(&self, rtype: &str, inputs: &Json) -> Option<ProviderError> {
        if self.reusable.contains(rtype) {
            return None;
        }
        let key = self.name_key(rtype, inputs)?;
        let id = self.names.get(&key)?.iter().next()?;
        Some(ProviderError::new(
            ErrorKind::Conflict,
            format!("a `{rtype}` named `{}` already exists (`{id}`)", key.1),
        ))
    }

    /// The AWS name an object of `rtype` with these inputs holds, if its type has one.
    pub(super) fn name_key(&self, rtype: &str, inputs: &Json) -> Option<(String, String)> {
        let prop = self.schema(rtype)?.aws_name?.prop?;
        let name = inputs.get(prop)?.as_str()?;
        Some((rtype.to_string(), name.to_string()))
    }

    /// Brings the name index up to date for object `id` after it was inserted, changed or
    /// removed. Every change to `objects` goes through here.
    pub(super) fn reindex(&mut self, id: &str) {
        if let Some(old) = self.name_of.remove(id) {
            if let Some(ids) = self.names.get_mut(&old) {
                ids.remove(id);
                if ids.is_empty() {
                    self.names.remove(&old);
                }
            }
        }
        let key = self
            .objects
            .get(id)
            .and_then(|o| self.name_key(&o.rtype, &o.inputs));
        if let Some(key) = key {
            self.names
                .entry(key.clone())
                .or_default()
                .insert(id.to_string());
            self.name_of.insert(id.to_string(), key);
        }
    }

    /// With [`FakeProvider::refusing_deletes_in_use`]: the error for deleting an object
    /// that a live object's inputs still point at.
    pub(super) fn in_use(&self, physical_id: &str) -> Option<ProviderError> {
        if !self.refuse_in_use {
            return None;
        }
        let target = self.objects.get(physical_id)?;
        let handles: Vec<&str> = std::iter::once(physical_id)
            .chain(
                ["id", "arn"]
                    .iter()
                    .filter_map(|a| target.attrs.get(*a).and_then(Json::as_str)),
            )
            .collect();
        let (user_id, user) = self.objects.iter().find(|(id, o)| {
            id.as_str() != physical_id && handles.iter().any(|h| mentions(&o.inputs, h))
        })?;
        Some(ProviderError::new(
            ErrorKind::Dependency,
            format!(
                "`{physical_id}` is in use by `{user_id}` (`{}` `{}`)",
                user.rtype, user.name
            ),
        ))
    }
}

impl World {
    /// The [`Fault::AfterCreate`] for the create of `rtype` just counted, if any.
    pub(super) fn after_create(&self, rtype: &str) -> Option<(ErrorKind, bool)> {
        let n = self
            .counts
            .get(&(Method::Create, rtype.to_string()))
            .copied()?;
        self.faults.iter().find_map(|f| match f {
            Fault::AfterCreate {
                rtype: t,
                n: k,
                kind,
                half_done,
            } if t == rtype && *k == n => Some((*kind, *half_done)),
            _ => None,
        })
    }

    /// [`Provider::find`] on the fake world, as the AWS provider does it: by the AWS name
    /// where the type has one, else by the `iac:stack` + `iac:name` tags. The oldest match
    /// wins. Ours when its tags name the same stack and resource (an untaggable type: when
    /// its inputs equal the wanted ones).
    pub(super) fn find(&self, rtype: &str, name: &str, inputs: &Json) -> Option<Existing> {
        let tag = |v: &Json, k: &str| v.get("tags").and_then(|t| t.get(k)).cloned();
        let name_prop = self
            .schema(rtype)
            .and_then(|s| s.aws_name)
            .and_then(|a| a.prop);
        let wanted_name = name_prop.and_then(|p| inputs.get(p));
        let wanted_stack = tag(inputs, "iac:stack");
        let (id, o) = self.objects.iter().find(|(_, o)| {
            o.rtype == rtype
                && match (name_prop, wanted_name) {
                    (Some(p), Some(n)) if !self.reusable.contains(rtype) => {
                        o.inputs.get(p) == Some(n)
                    }
                    _ if wanted_stack.is_some() => {
                        tag(&o.inputs, "iac:stack") == wanted_stack
                            && tag(&o.inputs, "iac:name") == Some(Json::String(name.into()))
                    }
                    _ => o.name == name,
                }
        })?;
        let foreign = if wanted_stack.is_some() {
            let theirs = (tag(&o.inputs, "iac:stack"), tag(&o.inputs, "iac:name"));
            (theirs != (wanted_stack, Some(Json::String(name.into()))))
                .then(|| format!("tags `{}`", o.inputs.get("tags").unwrap_or(&Json::Null)))
        } else {
            (o.inputs != *inputs).then(|| format!("the value `{}`", o.inputs))
        };
        let mut seen = o.inputs.clone();
        for p in self.unread.get(rtype).copied().unwrap_or_default() {
            if let (Some(m), Some(v)) = (seen.as_object_mut(), inputs.get(*p)) {
                m.insert((*p).to_string(), v.clone());
            }
        }
        Some(Existing {
            physical_id: id.clone(),
            live: Live {
                inputs: seen,
                attrs: o.attrs.clone(),
            },
            foreign,
        })
    }
}

/// What a create whose later steps failed leaves: the replace-marked properties (set by
/// the create call itself), the AWS name and the tags (given in the create call).
pub(super) fn half_done(schema: Option<&'static TypeSchema>, inputs: &Json) -> Json {
    let Some(map) = inputs.as_object() else {
        return inputs.clone();
    };
    let keep = |k: &str| {
        k == "tags"
            || schema.is_some_and(|s| {
                s.prop(k).is_some_and(|p| p.replace) || s.aws_name.and_then(|a| a.prop) == Some(k)
            })
    };
    Json::Object(
        map.iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// True when `needle` is one of the strings inside `v`.
pub(super) fn mentions(v: &Json, needle: &str) -> bool {
    match v {
        Json::String(s) => s == needle,
        Json::Array(a) => a.iter().any(|x| mentions(x, needle)),
        Json::Object(o) => o.values().any(|x| mentions(x, needle)),
        _ => false,
    }
}

/// Short id prefixes as AWS spells them, so test output reads like the real thing.
pub(super) fn id_prefix(rtype: &str) -> String {
    let short = rtype.rsplit('.').next().unwrap_or(rtype);
    match short {
        "vpc" => "vpc",
        "subnet" => "subnet",
        "internet_gateway" => "igw",
        "eip" => "eipalloc",
        "nat_gateway" => "nat",
        "route_table" => "rtb",
        "security_group" => "sg",
        "hosted_zone" => "Z",
        other => return other.replace('_', "-"),
    }
    .to_string()
}

/// Attributes for a new object from the type's schema: ids like `vpc-0001`, ARNs, names,
/// and attributes that mirror an input of the same name (`cidr`, `az`).
pub(super) fn synthesise(w: &mut World, rtype: &str, name: &str, inputs: &Json) -> (String, Json) {
    let prefix = id_prefix(rtype);
    let n = {
        let c = w.counters.entry(prefix.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let id = format!("{prefix}-{n:04}");
    let arn = format!("arn:aws:fake:{rtype}/{name}/{n:04}");
    let schema = w.schema(rtype);
    let mut attrs = Map::new();
    let aws_name = inputs
        .get("name")
        .or_else(|| inputs.get("family"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| {
            inputs
                .pointer("/tags/Name")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| name.to_string());
    let physical = match schema {
        Some(s) if s.attr("id").is_none() && s.attr("arn").is_some() => arn.clone(),
        _ => id.clone(),
    };
    if let Some(s) = schema {
        for a in s.attrs {
            let v = match (a.name, a.kind) {
                ("id", _) => json!(id),
                ("arn", _) => json!(arn),
                ("name", _) | ("family", _) => json!(aws_name),
                ("dns_name", _) => json!(format!("{aws_name}-{n:04}.fake.elb.amazonaws.com")),
                ("url", _) => json!(format!(
                    "000000000000.dkr.ecr.fake.amazonaws.com/{aws_name}"
                )),
                (other, kind) => match inputs.get(other) {
                    Some(v) => v.clone(),
                    None => match kind {
                        AttrKind::Str => json!(format!("{other}-{n:04}")),
                        AttrKind::Int => json!(n),
                        AttrKind::List => json!([]),
                    },
                },
            };
            attrs.insert(a.name.into(), v);
        }
    } else {
        attrs.insert("id".into(), json!(id));
        attrs.insert("arn".into(), json!(arn));
    }
    (physical, Json::Object(attrs))
}
