//! The JSON Schema (draft 2020-12) of a stack file, generated from [`TYPES`].
//!
//! Editors use it for completion, hovers and squiggles (`# yaml-language-server: $schema=...`
//! on the first line of a stack file); `iac schema` prints it and docs/stack.schema.json is
//! the committed copy. It checks shapes only: references are accepted wherever a value could
//! come from one, and cross-resource rules are left to the loader.
//!
//! Shapes of references: a string-typed field accepts any string, so `${...}` anywhere in it
//! passes; an integer, boolean, port, list or map field also accepts a string that is one
//! whole reference (`${var.tasks}`), because a whole-value reference keeps the referenced type.
//!
//! The schema declares draft 2020-12 but uses only keywords draft-07 also has (`$defs` is
//! reached through plain JSON pointers), because yaml-language-server, the editors' YAML
//! support, implements draft-07 fully and later drafts only in part.

use serde_json::{json, Map, Value};

use super::composite::{Composite, COMPOSITES};
use super::docs::{default_text, id_target, literal_default};
use super::{Kind, Prop, TypeSchema, META_KEYS, TYPES};

/// The `$defs` name of a type's schema: its `type:` value (`aws.vpc`).
fn def_ref(name: &str) -> String {
    format!("#/$defs/{name}")
}

/// The whole stack file's JSON Schema.
pub fn json_schema() -> Value {
    let mut defs = Map::new();
    defs.insert(
        "reference".into(),
        json!({
            "description": "A whole-value reference: `${NAME.ATTR}`, `${var.NAME}`, `${region}` or `${stack}`; it keeps the referenced value's type",
            "type": "string",
            "pattern": "^\\$\\{[^{}]+\\}$"
        }),
    );
    defs.insert(
        "interpolated".into(),
        json!({
            "description": "A string with at least one `${...}` reference in it",
            "type": "string",
            "pattern": "\\$\\{[^{}]+\\}"
        }),
    );
    defs.insert(
        "resource_name".into(),
        json!({
            "description": "A resource NAME: lower case letters, digits and `_`, starting with a letter",
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$"
        }),
    );
    defs.insert("var".into(), var_schema());
    defs.insert("resource".into(), resource_schema());
    for t in TYPES {
        defs.insert(t.name.into(), type_schema(t));
    }
    defs.insert(
        "resource_ref_name".into(),
        json!({
            "description": "A resource NAME, or `PARENT.CHILD`: a resource a web service creates",
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$"
        }),
    );
    for c in COMPOSITES {
        defs.insert(c.name.into(), composite_schema(c));
    }

    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "iac stack file",
        "description": "A stack: resources on AWS described in one YAML file. Reference: docs/stack-reference.md",
        "type": "object",
        "properties": {
            "stack": {
                "description": "Name of the stack: lower case letters, digits and `-`, at most 32 characters; may use `${var.*}`. Prefixes the AWS names and tags of every resource",
                "anyOf": [
                    { "type": "string", "pattern": "^[a-z0-9-]{1,32}$" },
                    { "$ref": "#/$defs/interpolated" }
                ]
            },
            "region": {
                "description": "AWS region, e.g. `us-east-1`; required unless `--region` or `AWS_REGION` gives it. `--region` overrides it",
                "anyOf": [
                    { "type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$" },
                    { "$ref": "#/$defs/interpolated" }
                ]
            },
            "state": {
                "description": "Where the state is kept, e.g. `s3://my-bucket/iac/lemon-mart.json`; omitted keeps it locally under `.iac/`",
                "type": "string"
            },
            "vars": {
                "description": "Inputs of the stack, read with `${var.NAME}`; overridden by `--var-file` then `--var`",
                "type": "object",
                "additionalProperties": { "$ref": "#/$defs/var" }
            },
            "tags": {
                "description": "Stack-wide tags: added to the `tags` of every taggable resource (a resource's own `tags` win on a key both have); may use `${var.*}`, `${stack}` and `${region}`. Not `Name`, nor keys starting with `iac:` or `aws:`",
                "type": "object",
                "propertyNames": { "not": { "pattern": "^(Name$|iac:|[aA][wW][sS]:)" } },
                "additionalProperties": { "type": "string" }
            },
            "resources": {
                "description": "The resources, by NAME; `${NAME.ATTR}` reads an attribute of one",
                "type": "object",
                "propertyNames": { "$ref": "#/$defs/resource_name" },
                "additionalProperties": { "$ref": "#/$defs/resource" }
            },
            "outputs": {
                "description": "Values printed after apply and by `iac output`: NAME -> value, usually a string with `${...}`",
                "type": "object",
                "additionalProperties": { "description": "An output value, e.g. `https://${var.domain}` or `${alb.dns_name}`" }
            },
            "moved": {
                "description": "Resources renamed in the stack: the object the state knows as `from` is now resource `to`'s, so the plan keeps it instead of destroying it and creating `to` anew",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "from": { "$ref": "#/$defs/resource_ref_name", "description": "The name the state knows; no longer a resource of the stack" },
                        "to": { "$ref": "#/$defs/resource_ref_name", "description": "The resource of the stack that takes over the object" }
                    },
                    "required": ["from", "to"],
                    "additionalProperties": false
                }
            },
            "usage": usage_schema()
        },
        "required": ["stack", "resources"],
        "additionalProperties": false,
        "$defs": defs
    })
}

/// `usage:`: expected usage for the cost estimate, one number per usage key.
fn usage_schema() -> Value {
    let props: serde_json::Map<String, Value> = super::USAGE_KEYS
        .iter()
        .map(|k| {
            (
                k.name.to_string(),
                json!({ "description": k.doc, "type": "number", "minimum": 0 }),
            )
        })
        .collect();
    json!({
        "description": "Expected usage of what AWS bills by use, for the monthly cost estimate of `iac plan` and `iac cost`; an absent key takes the default the estimate prints",
        "type": "object",
        "properties": props,
        "additionalProperties": false
    })
}

/// A var: a plain default, `{default, description}` or `{required: true, description}`.
/// As in the loader, a map is the long form only when it has nothing but those keys and at
/// least `default` or `required`; any other map is a default value itself.
fn var_schema() -> Value {
    let long_form_keys = json!({
        "propertyNames": { "enum": ["default", "description", "required"] },
        "anyOf": [{ "required": ["default"] }, { "required": ["required"] }]
    });
    json!({
        "description": "A var: its default value, or `{default, description}`, or `{required: true, description}` for a value that must be given",
        "anyOf": [
            { "type": ["string", "number", "boolean", "array", "null"] },
            {
                "type": "object",
                "properties": {
                    "default": { "description": "Value used when no var file or `--var` sets one" },
                    "description": { "type": "string", "description": "What the var is for" },
                    "required": { "type": "boolean", "description": "`true`: loading fails unless a var file or `--var` gives a value" }
                },
                "additionalProperties": false,
                "anyOf": [{ "required": ["default"] }, { "required": ["required"] }]
            },
            {
                "description": "A map used as the default value",
                "type": "object",
                "not": long_form_keys
            }
        ]
    })
}

/// Any resource: `type` picks the per-type schema.
fn resource_schema() -> Value {
    let names: Vec<&str> = TYPES
        .iter()
        .map(|t| t.name)
        .chain(COMPOSITES.iter().map(|c| c.name))
        .collect();
    let branches: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "if": { "properties": { "type": { "const": name } }, "required": ["type"] },
                "then": { "$ref": def_ref(name) }
            })
        })
        .collect();
    json!({
        "type": "object",
        "properties": {
            "type": { "description": "The resource type", "enum": names }
        },
        "required": ["type"],
        "allOf": branches
    })
}

/// The schema of the meta keys, allowed on every resource.
fn meta_schema(key: &str, rtype: &str) -> Value {
    match key {
        "type" => json!({ "const": rtype, "description": "The resource type" }),
        "depends_on" => json!({
            "description": "Resources this one must come after although no reference says so",
            "type": "array",
            "items": { "$ref": "#/$defs/resource_ref_name" }
        }),
        "protect" => json!({
            "description": "`true`: plans refuse to destroy or replace this resource",
            "type": "boolean"
        }),
        "ignore_changes" => json!({
            "description": "Property paths (`desired_count`, `health_check.path`) whose live drift is not planned as an update",
            "type": "array",
            "items": { "type": "string" }
        }),
        "existing" => {
            let by = super::lookup_by(rtype).map_or_else(
                || "this type has none: give its id".to_string(),
                |l| {
                    l.props()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            );
            let forms = super::import_id(rtype).map_or("its id", |i| i.forms);
            json!({
                "description": format!("Look up an object that already exists instead of managing it: `true` finds it by its identifying properties ({by}), `{{ id: ID }}` by its id ({forms})"),
                "oneOf": [
                    { "type": "boolean" },
                    {
                        "type": "object",
                        "properties": { "id": { "type": "string" } },
                        "required": ["id"],
                        "additionalProperties": false
                    }
                ]
            })
        }
        "import" => {
            let forms = super::import_id(rtype).map_or("its id", |i| i.forms);
            json!({
                "description": format!("The id of an existing object to take into the stack on the next plan: {forms}"),
                "type": "string"
            })
        }
        other => unreachable!("meta key `{other}` has no schema: add it to meta_schema"),
    }
}

/// One type: meta keys and properties, nothing else. With `existing: true` the required
/// properties are not demanded, as a lookup needs only its identifying ones.
fn type_schema(t: &TypeSchema) -> Value {
    let mut props = Map::new();
    for key in META_KEYS {
        props.insert((*key).into(), meta_schema(key, t.name));
    }
    for p in t.props {
        props.insert(p.name.into(), prop_schema(p));
    }
    let required: Vec<&str> = t
        .props
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    let mut out = json!({
        "description": t.doc,
        "type": "object",
        "properties": props,
        "required": ["type"],
        "additionalProperties": false
    });
    if !required.is_empty() {
        let o = out.as_object_mut().expect("built as an object");
        o.insert(
            "if".into(),
            json!({ "properties": { "existing": { "not": { "const": false } } }, "required": ["existing"] }),
        );
        o.insert("else".into(), json!({ "required": required }));
    }
    out
}

/// A composite (`aws.web_service`): `type` and its fields, nothing else.
fn composite_schema(c: &Composite) -> Value {
    let mut props = Map::new();
    props.insert("type".into(), meta_schema("type", c.name));
    for p in c.props {
        props.insert(p.name.into(), prop_schema(p));
    }
    let required: Vec<&str> = std::iter::once("type")
        .chain(c.props.iter().filter(|p| p.required).map(|p| p.name))
        .collect();
    json!({
        "description": c.doc,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false
    })
}

/// A property: its description and default first (for readers of the JSON), then its kind.
fn prop_schema(p: &Prop) -> Value {
    let mut desc = p.doc.to_string();
    let mut out = Map::new();
    if let Some(d) = p.default {
        desc.push_str(&format!(". Default: {}", default_text(d)));
    }
    if let Some((rtype, attr)) = id_target(&p.kind) {
        desc.push_str(&format!(". Takes `${{NAME.{attr}}}` of an `{rtype}`"));
    }
    if p.replace {
        desc.push_str(". Changing it replaces the resource");
    }
    out.insert("description".into(), Value::String(desc));
    if let Some(v) = p.default.and_then(literal_default) {
        out.insert("default".into(), v);
    }
    match kind_schema(&p.kind) {
        Value::Object(kind) => out.extend(kind),
        other => unreachable!("kind schemas are objects, got {other}"),
    }
    Value::Object(out)
}

/// The `anyOf` of a typed value and a whole-value reference.
fn or_reference(s: Value) -> Value {
    json!({ "anyOf": [s, { "$ref": "#/$defs/reference" }] })
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Str => json!({ "type": "string" }),
        Kind::Int => or_reference(json!({ "type": "integer" })),
        Kind::Bool => or_reference(json!({ "type": "boolean" })),
        Kind::Cidr => json!({
            "anyOf": [
                { "type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$" },
                { "type": "string", "pattern": "^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*/[0-9]{1,3}$" },
                { "$ref": "#/$defs/interpolated" }
            ]
        }),
        Kind::Port => or_reference(json!({ "type": "integer", "minimum": 0, "maximum": 65535 })),
        Kind::Enum(variants) => {
            let mut values: Vec<Value> = variants.iter().map(|v| json!(v)).collect();
            if variants
                .iter()
                .all(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            {
                // Integer enums: `301` and `"301"` are the same variant (see `Kind::Enum`).
                values.extend(
                    variants
                        .iter()
                        .filter_map(|v| v.parse::<i64>().ok())
                        .map(Value::from),
                );
            }
            json!({ "anyOf": [{ "enum": values }, { "$ref": "#/$defs/interpolated" }] })
        }
        Kind::Id { .. } => json!({ "type": "string" }),
        Kind::ListOf(item) => or_reference(json!({ "type": "array", "items": kind_schema(item) })),
        Kind::MapOf(item) => or_reference(json!({
            "type": "object",
            "additionalProperties": kind_schema(item)
        })),
        Kind::Object(fields) => object_schema(fields),
        Kind::OneOf(alts) => json!({ "anyOf": alts.iter().map(kind_schema).collect::<Vec<_>>() }),
        Kind::Any => json!({}),
    }
}

/// A nested object: exactly its fields.
fn object_schema(fields: &[Prop]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), prop_schema(f)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut s = json!({
        "type": "object",
        "properties": props,
        "additionalProperties": false
    });
    if !required.is_empty() {
        s.as_object_mut()
            .expect("built as an object")
            .insert("required".into(), json!(required));
    }
    s
}
