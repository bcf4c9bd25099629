//! Stacks built in code for the rule tests, so each rule is tested without going through the
//! loader. Every property path gets its own made-up span, which lets a test ask which paths a
//! diagnostic's labels point at.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::diag::Diag;
use crate::model::{RefSite, Resource, ResourceSpans};
use crate::schema::{self, DefaultValue};
use crate::value::Value;
use crate::{Diagnostics, SourceFile, Span, Stack, StackGraph};

pub struct Kit {
    pub stack: Stack,
    next: usize,
    /// Which `resource:path` each made-up span stands for.
    paths: HashMap<Span, String>,
}

impl Kit {
    pub fn new(stack_name: &str) -> Self {
        Kit {
            stack: Stack {
                source: SourceFile::new("test.yaml", ""),
                name: stack_name.to_string(),
                region: Some("us-east-1".into()),
                state: None,
                vars: IndexMap::new(),
                resources: IndexMap::new(),
                outputs: IndexMap::new(),
                moved: Vec::new(),
                usage: Default::default(),
                spans: HashMap::new(),
            },
            next: 0,
            paths: HashMap::new(),
        }
    }

    /// A VPC `vpc` (`10.0.0.0/16`) and a subnet of it for each name: the first in
    /// `us-east-1a` (`10.0.1.0/24`), the second in `us-east-1b` (`10.0.2.0/24`), and so on.
    pub fn network(&mut self, subnets: &[&str]) -> &mut Self {
        self.add("vpc", "aws.vpc", serde_json::json!({"cidr": "10.0.0.0/16"}));
        for (i, name) in subnets.iter().enumerate() {
            let zone = char::from(b'a' + u8::try_from(i).expect("a few subnets"));
            self.add(
                name,
                "aws.subnet",
                serde_json::json!({"vpc": "${vpc.id}", "cidr": format!("10.0.{}.0/24", i + 1),
                                   "az": format!("us-east-1{zone}")}),
            );
        }
        self
    }

    fn span(&mut self, what: String) -> Span {
        let s = Span::new(self.next, self.next + 1);
        self.next += 2;
        self.paths.insert(s, what);
        s
    }

    /// Add a resource whose properties are given as JSON; strings `${a.b}` become references.
    /// Top-level defaults of the schema are filled in as the loader does.
    pub fn add(&mut self, name: &str, rtype: &str, props: serde_json::Value) -> &mut Resource {
        let schema = schema::lookup(rtype).unwrap_or_else(|| panic!("unknown type {rtype}"));
        let mut spans = ResourceSpans {
            name: self.span(format!("{name}:<name>")),
            ..Default::default()
        };
        let mut out = IndexMap::new();
        let serde_json::Value::Object(map) = props else {
            panic!("props must be an object")
        };
        for (k, v) in map {
            let value = self.value(name, &k, v, &mut spans);
            out.insert(k, value);
        }
        let mut defaulted = Vec::new();
        for p in schema.props {
            if out.contains_key(p.name) {
                continue;
            }
            let v = match p.default {
                None => continue,
                Some(DefaultValue::Bool(b)) => Value::Bool(b),
                Some(DefaultValue::Int(i)) => Value::Int(i),
                Some(DefaultValue::Str(s)) => Value::Str(s.into()),
                Some(DefaultValue::AwsName) => Value::Str(schema::aws_name(
                    &self.stack.name,
                    name,
                    schema.aws_name.map_or(255, |a| a.max_len),
                )),
                Some(DefaultValue::Pattern(pat)) => Value::Str(
                    pat.replace("{stack}", &self.stack.name)
                        .replace("{name}", name),
                ),
            };
            out.insert(p.name.to_string(), v);
            defaulted.push(p.name.to_string());
        }
        let r = Resource {
            name: name.to_string(),
            schema,
            props: out,
            depends_on: vec![],
            protect: false,
            ignore_changes: vec![],
            existing: false,
            lookup_id: None,
            import: None,
            defaulted,
            implied: Vec::new(),
            spans,
        };
        self.stack.resources.insert(name.to_string(), r);
        self.stack.resources.get_mut(name).unwrap()
    }

    fn value(
        &mut self,
        res: &str,
        path: &str,
        v: serde_json::Value,
        spans: &mut ResourceSpans,
    ) -> Value {
        use serde_json::Value as J;
        let key = self.span(format!("{res}:{path}:key"));
        spans.keys.insert(path.to_string(), key);
        let at = self.span(format!("{res}:{path}"));
        spans.props.insert(path.to_string(), at);
        match v {
            J::String(s) => {
                let v = Value::with_refs(&s);
                for r in v.references() {
                    spans.refs.push(RefSite {
                        reference: r.clone(),
                        span: at,
                        path: path.to_string(),
                    });
                }
                v
            }
            J::Array(a) => Value::List(
                a.into_iter()
                    .enumerate()
                    .map(|(i, x)| self.value(res, &format!("{path}[{i}]"), x, spans))
                    .collect(),
            ),
            J::Object(o) => Value::Map(
                o.into_iter()
                    .map(|(k, x)| {
                        let v = self.value(res, &format!("{path}.{k}"), x, spans);
                        (k, v)
                    })
                    .collect(),
            ),
            other => Value::from(other),
        }
    }

    pub fn check(&self) -> Diagnostics {
        let mut d = Diagnostics::default();
        super::check(&self.stack, &StackGraph::default(), &mut d);
        d
    }

    /// The codes of every diagnostic, in order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.check().iter().map(|d| d.code).collect()
    }

    /// The one diagnostic with `code`; panics when there is none or more than one.
    pub fn one(&self, code: &str) -> Diag {
        let d = self.check();
        let found: Vec<&Diag> = d.iter().filter(|d| d.code == code).collect();
        assert_eq!(found.len(), 1, "want one `{code}`, got {:?}", self.codes());
        found[0].clone()
    }

    /// [`Kit::labels`] of the one diagnostic with `code` ([`Kit::one`]).
    pub fn labels_of(&self, code: &str) -> Vec<String> {
        self.labels(&self.one(code))
    }

    /// `resource:path` of each label of `d` (primary first); `:key` marks a key span.
    pub fn labels(&self, d: &Diag) -> Vec<String> {
        d.labels
            .iter()
            .map(|l| {
                self.paths
                    .get(&l.span)
                    .cloned()
                    .unwrap_or_else(|| format!("{:?}", l.span))
            })
            .collect()
    }
}

/// `base` with each key of the object `extra` set (replaced or added).
pub fn merge(mut base: serde_json::Value, extra: &serde_json::Value) -> serde_json::Value {
    for (key, v) in extra.as_object().expect("an object of properties") {
        base[key] = v.clone();
    }
    base
}
