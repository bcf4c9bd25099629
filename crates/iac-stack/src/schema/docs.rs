//! docs/stack-reference.md, generated from [`TYPES`] so the page cannot drift from what the
//! loader accepts. The output is stable (no dates, table order) so the committed copy can be
//! compared with a fresh one in a test.
//!
//! Here: the page's fixed sections (how a stack file is laid out) and the functions that
//! render each type's table from [`TYPES`]; the example stack of each type, data, is in
//! `docs/examples.rs`.

use std::fmt::Write as _;

use serde_json::Value;

use super::composite::{Composite, COMPOSITES};
use super::{DefaultValue, Kind, Prop, TypeSchema, TYPES};

mod examples;

use examples::example;

/// The whole reference page, Markdown with a trailing newline.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    usage_section(&mut out);
    out.push_str("\n## Types\n\n");
    for t in TYPES {
        let _ = writeln!(out, "- [`{}`](#{}): {}", t.name, anchor(t.name), t.doc);
    }
    for c in COMPOSITES {
        let _ = writeln!(out, "- [`{}`](#{}): {}", c.name, anchor(c.name), c.doc);
    }
    for t in TYPES {
        type_section(&mut out, t);
    }
    for c in COMPOSITES {
        composite_section(&mut out, c);
    }
    out
}

/// A composite: its fields, the values derived from them, and every child it creates with
/// the body it gets (the table of `schema/composite.rs`, as is).
fn composite_section(out: &mut String, c: &Composite) {
    let _ = write!(out, "\n## {}\n\n{}.\n\n", c.name, c.doc);
    out.push_str(
        "A composite: the loader expands it into the resources listed below, named \
         `NAME.CHILD` (`web.alb`), which plans, `iac state list`, `--target` and the graph \
         show like any other; `--target NAME` selects them all. Read a child's attribute as \
         `${NAME.CHILD.ATTR}` (`${web.alb.dns_name}`). See [web-service.md](web-service.md).\n\n",
    );
    out.push_str("| field | kind | required | description |\n|---|---|---|---|\n");
    for p in c.props {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            p.name,
            kind_label(&p.kind),
            if p.required { "yes" } else { "" },
            cell(p.doc),
        );
    }
    out.push_str(
        "\nIn the bodies below, `PARENT` is the web service's name and `$FIELD` the value of \
                  its field (an entry whose field is not set is left out), or one derived from the \
                  fields:\n\n| value | what |\n|---|---|\n",
    );
    for d in c.derived {
        let _ = writeln!(out, "| `${}` | {} |", d.name, cell(d.doc));
    }
    out.push_str("\nWhat it creates:\n\n| child | type | created |\n|---|---|---|\n");
    for ch in c.children {
        let _ = writeln!(
            out,
            "| `{}` | [`{}`](#{}) | {} |",
            ch.name,
            ch.rtype,
            anchor(ch.rtype),
            ch.when.describe()
        );
    }
    for ch in c.children {
        let _ = write!(
            out,
            "\n`PARENT.{}` (`{}`):\n\n```yaml\n{}```\n",
            ch.name, ch.rtype, ch.body
        );
    }
}

/// `## Usage`: the keys of the top-level `usage:` section.
fn usage_section(out: &mut String) {
    out.push_str(
        "\n## Usage\n\nAWS bills some things by use, which the stack cannot say: `usage:` gives the \
         expected figures for the monthly cost estimate of `iac plan` and `iac cost` \
         (see [cost.md](cost.md)). Each value is a number, zero or more; a key left out takes \
         the default that the estimate prints as an assumption.\n\n\
         ```yaml\nusage:\n  alb_lcu_per_hour: 0.5\n  log_gb_per_month: 3\n```\n\n\
         | key | meaning |\n|---|---|\n",
    );
    for k in super::USAGE_KEYS {
        let _ = writeln!(out, "| `{}` | {} |", k.name, k.doc);
    }
}

/// Everything before the per-type sections: the file's shape, meta keys, references, naming.
const HEADER: &str = r#"# Stack file reference

<!-- Generated from crates/iac-stack/src/schema/types.rs; do not edit by hand.
     Regenerate with `IAC_BLESS=1 cargo test -p iac-stack --test schema`. -->

A stack file is YAML describing one stack: the resources of an application on AWS. The
JSON Schema in [stack.schema.json](stack.schema.json) has the same content for editors; start
a stack file with

```yaml
# yaml-language-server: $schema=../docs/stack.schema.json
```

to get completion, hovers and errors while typing. [stacks/lemon-mart.yaml](../stacks/lemon-mart.yaml)
is a complete example.

## Top level

| key | required | meaning |
|---|---|---|
| `stack` | yes | Name of the stack: `[a-z0-9-]{1,32}`, may use `${var.*}`. Prefixes AWS names and tags |
| `region` | unless `--region` or `AWS_REGION` gives it | AWS region, e.g. `us-east-1`; `--region` overrides it |
| `state` | no | Where state is kept, e.g. `s3://my-bucket/iac/lemon-mart.json`; default: a local file under `.iac/` |
| `vars` | no | Inputs, read with `${var.NAME}`: each a default value, `{default, description}` or `{required: true, description}` |
| `tags` | no | Stack-wide tags: a map of key to string added to every taggable resource (see [Names and tags](#names-and-tags)) |
| `resources` | yes | Map of NAME (`[a-z][a-z0-9_]*`) to resource |
| `outputs` | no | Map of NAME to a string with `${...}`, printed after apply |
| `moved` | no | Resources renamed in the stack: a list of `{from: OLD_NAME, to: NEW_NAME}`, so the object is kept instead of destroyed and created again (see [Moved resources](#moved-resources)) |
| `usage` | no | Expected usage of what AWS bills by use, for the monthly cost estimate (see [Usage](#usage)) |

## Vars

```yaml
vars:
  domain: lemonmart.example.com          # a default
  tasks:
    default: 2
    description: Number of tasks of the web service
  api_key_arn:
    required: true                       # loading fails unless a value is given
```

Values are overridden, last wins, by `--var-file FILE.yaml` (a map of var to value, e.g.
`stacks/env/staging.yaml`) and then by `--var name=value`. A required var without a value is an
error naming the var.

## References

| written | means |
|---|---|
| `${NAME.ATTR}` | Attribute ATTR of resource NAME (attributes are listed per type below). Orders NAME before the resource that reads it. Shown as `(known after apply)` in a plan until NAME exists |
| `${var.NAME}` | The value of a var |
| `${region}`, `${stack}` | The stack's region and name |

A value that is one whole reference keeps the referenced type: `desired_count: ${var.tasks}`
is a number and `subnets: ${other.subnets}` a list. A reference inside a longer string is
interpolated as text: `https://${var.domain}`. An unknown resource, attribute or var is an error
pointing at the reference, with a "did you mean" when a near name exists.

## Meta keys

Allowed on every resource besides the type's properties; any other key is an error.

| key | meaning |
|---|---|
| `type` | Required: one of the types below |
| `depends_on` | List of resource NAMEs this one comes after although no reference says so |
| `protect` | `true`: a plan that would destroy or replace this resource is refused |
| `ignore_changes` | List of property paths (`desired_count`, `health_check.path`) whose live drift is not planned as an update |
| `existing` | A read-only lookup of something that already exists: `true` finds it by the type's identifying properties (a hosted zone by `name`, a VPC by `tags`; see "Lookup:" under each type), `{ id: ID }` by the id the console shows (the forms `import:` takes); read at plan time, never created, updated or destroyed. See [lookups.md](lookups.md) |

## Names and tags

Every taggable resource gets the tags `iac:stack=<stack>` and `iac:name=<NAME>`, plus
`Name=<stack>-<NAME>` where the service shows names, plus your tags: the stack-wide `tags:`
map at the top level and the resource's own `tags:` map, whose keys win over the stack-wide
ones.

```yaml
tags:                       # on every taggable resource of the stack
  team: checkout
  env: ${var.env}
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
    tags: { env: shared }   # this resource: team=checkout, env=shared
```

Stack-wide tag values may use vars, `${region}` and `${stack}`, not resource attributes, and
may not set `Name` (it is per resource) or keys starting with `iac:` (iac's own) or `aws:`
(reserved by AWS). A change to them plans an in-place tag update of every resource, never a
replacement. `existing: true` resources are only looked up and do not get them.

Names AWS requires (load balancer, target group, cluster, service, task family, role, log group, repository)
default to `<stack>-<NAME>` with `_` written as `-`; a name longer than the service allows is
cut and ends in a short hash of the full name, so it stays the same on every run and two long
names stay distinct.

## Moved resources

Renaming a resource's key would otherwise destroy its object and create a new one. A
`moved:` entry says that the object the state knows under the old name is now this
resource's:

```yaml
moved:
  - from: web_tg            # the name the state knows; no longer under `resources:`
    to: api_tg              # a resource of the stack
resources:
  api_tg:
    type: aws.target_group
    ...
```

The plan shows `web_tg -> api_tg (moved)` instead of a destroy and a create, plus whatever
update the stack asks of the object: its `iac:name` and `Name` tags follow the new name, and a
name AWS requires that iac chose (`name:` not written) stays the name the object has. Apply
renames the resource in the state. An entry whose `from` the state does not hold does nothing,
so entries may stay in the file after they are applied. `to` must be a resource of the stack
and `from` must not; each name appears once on each side, and entries may not chain
(`a -> b`, `b -> c`: write `a -> c`).

## YAML anchors and merge keys

A value written once can be used again: `&name` anchors it, `*name` repeats it, and the merge
key `<<: *name` (or `<<: [*a, *b]`) copies the entries of an anchored map into another map.
Keys written in the map itself win over merged ones, and among several merged maps the first
listed wins (YAML 1.1 merge keys).

```yaml
resources:
  public_a: &subnet
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.1.0/24
    az: ${region}a
    public: true
    tags: &web_tags { tier: web, team: checkout }
  public_b:
    <<: *subnet               # everything public_a has ...
    cidr: 10.0.2.0/24         # ... but these two
    az: ${region}b
  app_sg:
    type: aws.security_group
    vpc: ${vpc.id}
    tags: *web_tags
```

An error in a value used through an alias points at both places: where the value is written
and the alias that uses it. Aliases may copy at most 100 000 values in one file, which is far
beyond any stack and stops "billion laughs" files whose aliases repeat aliases.

## Reading the property tables

- **kind**: `string`, `integer`, `boolean`, `CIDR` (e.g. `10.0.0.0/16`), `port` (0-65535), one
  of a set of values, a reference to another resource's attribute (written `${NAME.ATTR}`; a
  literal id or ARN is accepted too), a list, a map of string keys, or an object whose fields
  follow in rows named `object.field` (`list[].field` for lists of objects).
- **replace**: changing the property creates a new resource and destroys the old one; other
  properties are updated in place.
- Status codes of redirects may be written as numbers or strings: `301` and `"301"` are the same.
- "Addition:" marks a property the v1 format contract does not list.
"#;

/// GitHub's heading anchor of a type section: `aws.vpc` -> `awsvpc`.
fn anchor(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

fn type_section(out: &mut String, t: &TypeSchema) {
    let _ = write!(out, "\n## {}\n\n{}.\n\n", t.name, t.doc);
    out.push_str("| property | kind | required | default | replace | description |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    prop_rows(out, "", t.props);
    out.push_str("\nAttributes, read with `${NAME.ATTR}`:\n\n");
    out.push_str("| attribute | kind | description |\n|---|---|---|\n");
    for a in t.attrs {
        let kind = match a.kind {
            super::AttrKind::Str => "string",
            super::AttrKind::Int => "integer",
            super::AttrKind::List => "list",
        };
        let _ = writeln!(out, "| `{}` | {kind} | {} |", a.name, cell(a.doc));
    }
    out.push('\n');
    if t.taggable {
        out.push_str("Taggable: gets the `iac:stack` and `iac:name` tags and accepts `tags`.\n\n");
    } else {
        out.push_str("Not taggable.\n\n");
    }
    match super::lookup_by(t.name) {
        Some(l) => {
            let _ = writeln!(
                out,
                "Lookup: `existing: true` finds it by {}: {}.\n",
                l.props()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                l.doc
            );
        }
        None if t.name.starts_with("aws.") => {
            out.push_str("Lookup: only by id, `existing: { id: ID }`.\n\n");
        }
        None => {}
    }
    match t.aws_name {
        Some(n) => {
            let source = match n.prop {
                Some(p) => format!("`{p}`; when omitted, "),
                None => String::new(),
            };
            let default = t
                .props
                .iter()
                .find(|p| Some(p.name) == n.prop)
                .and_then(|p| p.default)
                .map_or("`<stack>-<NAME>`".to_string(), default_text);
            let _ = writeln!(
                out,
                "AWS name: {source}{default}, at most {} characters.\n",
                n.max_len
            );
        }
        None => out.push_str("AWS name: none (AWS identifies it by id).\n\n"),
    }
    let _ = writeln!(out, "```yaml\n{}```", example(t.name));
}

/// One table row per property, then rows for the fields of object-valued properties.
fn prop_rows(out: &mut String, prefix: &str, props: &[Prop]) {
    for p in props {
        let path = format!("{prefix}{}", p.name);
        let _ = writeln!(
            out,
            "| `{path}` | {} | {} | {} | {} | {} |",
            kind_label(&p.kind),
            if p.required { "yes" } else { "" },
            p.default.map(default_text).unwrap_or_default(),
            if p.replace { "yes" } else { "" },
            cell(p.doc),
        );
        match &p.kind {
            Kind::Object(fields) => prop_rows(out, &format!("{path}."), fields),
            Kind::ListOf(Kind::Object(fields)) => prop_rows(out, &format!("{path}[]."), fields),
            Kind::OneOf(alts) => {
                for alt in alts.iter() {
                    if let Kind::Object(fields) = alt {
                        prop_rows(out, &format!("{path}."), fields);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// How a kind reads in the reference's tables.
fn kind_label(kind: &Kind) -> String {
    match kind {
        Kind::Str => "string".into(),
        Kind::Int => "integer".into(),
        Kind::Bool => "boolean".into(),
        Kind::Cidr => "CIDR".into(),
        Kind::Port => "port".into(),
        Kind::Enum(vs) => vs
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" \\| "),
        Kind::Id { rtype, attr } => format!("`{attr}` of `{rtype}`"),
        Kind::ListOf(Kind::Object(_)) => "list of objects".into(),
        Kind::ListOf(item) => format!("list of {}", kind_label(item)),
        Kind::MapOf(item) => format!("map of {}", kind_label(item)),
        Kind::Object(_) => "object".into(),
        Kind::OneOf(alts) => alts.iter().map(kind_label).collect::<Vec<_>>().join(" or "),
        Kind::Any => "any".into(),
    }
}

/// A default as the docs and the JSON Schema descriptions show it.
pub(super) fn default_text(d: DefaultValue) -> String {
    match d {
        DefaultValue::Bool(b) => format!("`{b}`"),
        DefaultValue::Int(i) => format!("`{i}`"),
        DefaultValue::Str(s) => format!("`{s}`"),
        DefaultValue::AwsName => "`<stack>-<NAME>`".into(),
        DefaultValue::Pattern(p) => format!(
            "`{}`",
            p.replace("{stack}", "<stack>").replace("{name}", "<NAME>")
        ),
    }
}

/// A default that is the same for every stack, as a JSON value; computed names are not.
pub(super) fn literal_default(d: DefaultValue) -> Option<Value> {
    match d {
        DefaultValue::Bool(b) => Some(Value::Bool(b)),
        DefaultValue::Int(i) => Some(Value::from(i)),
        DefaultValue::Str(s) => Some(Value::from(s)),
        DefaultValue::AwsName | DefaultValue::Pattern(_) => None,
    }
}

/// The type and attribute a property (or its list items) refers to.
pub(super) fn id_target(kind: &Kind) -> Option<(&'static str, &'static str)> {
    match kind {
        Kind::Id { rtype, attr } => Some((rtype, attr)),
        Kind::ListOf(Kind::Id { rtype, attr }) => Some((rtype, attr)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example is a valid stack fragment: wrapped in a stack, it passes the JSON Schema,
    /// and each resource in it has the type of its section.
    #[test]
    fn examples_validate_against_the_json_schema() {
        let schema = super::super::json_schema();
        let validator = jsonschema::validator_for(&schema).expect("the JSON Schema compiles");
        for t in TYPES {
            let body: String = example(t.name)
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect();
            let text = format!("stack: example\nregion: us-east-1\nresources:\n{body}");
            let doc: Value = serde_yaml_ng::from_str(&text)
                .unwrap_or_else(|e| panic!("example of `{}` is not YAML: {e}\n{text}", t.name));
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "example of `{}` fails the schema:\n{}",
                t.name,
                errors.join("\n")
            );
            let resources = doc["resources"].as_object().expect("resources map");
            assert!(!resources.is_empty());
            for (name, r) in resources {
                assert_eq!(r["type"], t.name, "`{name}` in the example of `{}`", t.name);
            }
        }
    }

    #[test]
    fn every_type_has_a_section_and_an_anchor() {
        let md = reference_markdown();
        for t in TYPES {
            assert!(md.contains(&format!("\n## {}\n", t.name)), "{}", t.name);
            assert!(md.contains(&format!("(#{})", anchor(t.name))), "{}", t.name);
        }
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
    }
}
