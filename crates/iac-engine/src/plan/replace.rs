//! How a replacement goes: create-before-destroy unless the AWS name forbids it, and the
//! fresh AWS names iac chooses for the new object of a resource whose name it generates.

use std::collections::HashSet;
use std::sync::Arc;

use iac_stack::schema::DefaultValue;
use iac_stack::{Resource, Stack, Value};
use serde_json::Value as Json;

use crate::provider::Provider;
use crate::util;

use super::ReplaceStrategy;

/// An AWS name the stack leaves to iac: the type's name property, not written in the
/// stack, on a type whose names AWS keeps unique.
#[derive(Debug, Clone)]
pub(crate) struct GeneratedName {
    pub(super) prop: &'static str,
    /// `<stack>-<NAME>` within the limit: the name a first create uses.
    pub(super) base: String,
    /// The base shortened to leave room for `-` and [`FRESH_SUFFIX_LEN`] hex digits.
    short: String,
}

/// Hex digits of the suffix of a fresh name.
const FRESH_SUFFIX_LEN: usize = 6;

impl GeneratedName {
    /// The names iac chooses for resource `name` of `stack` in property `prop`, within
    /// `max_len`.
    pub(crate) fn new(prop: &'static str, stack: &str, name: &str, max_len: usize) -> Self {
        GeneratedName {
            prop,
            base: iac_stack::schema::aws_name(stack, name, max_len),
            short: iac_stack::schema::aws_name(
                stack,
                name,
                max_len.saturating_sub(FRESH_SUFFIX_LEN + 1),
            ),
        }
    }

    /// True for a name iac would have chosen: the base, or a fresh one.
    pub(crate) fn is_generated(&self, name: &str) -> bool {
        name == self.base
            || name
                .strip_prefix(self.short.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|h| {
                    h.len() == FRESH_SUFFIX_LEN && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
    }

    /// The name of the object that replaces one named `current`: alternate between the
    /// base and a suffixed name, the suffix a hash of the new inputs (so the same plan
    /// always picks the same name, and a saved plan applies what it showed).
    pub(super) fn fresh(&self, current: &str, new_inputs: &Value) -> String {
        if current != self.base {
            return self.base.clone();
        }
        let mut hashed = new_inputs.clone();
        set_prop(&mut hashed, self.prop, Value::Null);
        let text = serde_json::to_string(&hashed).unwrap_or_default();
        let h = util::fnv64(text.as_bytes()) & 0x00ff_ffff;
        format!("{}-{h:0width$x}", self.short, width = FRESH_SUFFIX_LEN)
    }
}

pub(super) fn generated_name(
    stack: &Stack,
    r: &Resource,
    provider: &dyn Provider,
) -> Option<GeneratedName> {
    let an = r.schema.aws_name?;
    let prop = an.prop?;
    let defaulted = matches!(
        r.schema.prop(prop).and_then(|p| p.default),
        Some(DefaultValue::AwsName)
    );
    if !defaulted || !r.is_defaulted(prop) || provider.names_reusable(r.schema.name) {
        return None;
    }
    Some(GeneratedName::new(prop, &stack.name, &r.name, an.max_len))
}

/// Set a top-level property of a map-shaped value.
pub(super) fn set_prop(v: &mut Value, prop: &str, to: Value) {
    if let Value::Map(m) = v {
        m.insert(prop.to_string(), to);
    }
}

/// How a replacement goes.
pub(super) struct How {
    pub(super) strategy: ReplaceStrategy,
    pub(super) because: Option<String>,
    pub(super) new_name: Option<String>,
}

/// Create-before-destroy unless the new object would need the AWS name the old one holds
/// and the stack fixes that name (a name iac chose is changed instead).
pub(super) fn replace_strategy(
    r: &Resource,
    old: &Json,
    new: &Value,
    provider: &Arc<dyn Provider>,
    deps: &[String],
    dbc: &HashSet<String>,
    generated: Option<&GeneratedName>,
) -> How {
    let cbd = How {
        strategy: ReplaceStrategy::CreateBeforeDestroy,
        because: None,
        new_name: None,
    };
    let dbc_because = |because: String| How {
        strategy: ReplaceStrategy::DestroyBeforeCreate,
        because: Some(because),
        new_name: None,
    };
    // The dependency's old object goes before its new one comes; this one's old object
    // must go before that, so its new one cannot come first.
    if let Some(d) = deps.iter().find(|d| dbc.contains(*d)) {
        return dbc_because(format!("`{d}` is replaced destroy-before-create"));
    }
    let Some(an) = r.schema.aws_name else {
        return cbd;
    };
    if provider.names_reusable(r.schema.name) {
        return cbd;
    }
    let old_name = an.prop.and_then(|p| old.get(p)).and_then(Json::as_str);
    if let (Some(g), Some(current)) = (generated, old_name) {
        return How {
            new_name: Some(g.fresh(current, new)),
            ..cbd
        };
    }
    let new_name = an.prop.and_then(|p| new.get(p));
    let what = r
        .schema
        .name
        .rsplit('.')
        .next()
        .unwrap_or(r.schema.name)
        .replace('_', " ");
    match (old_name, new_name, an.prop) {
        (Some(o), Some(n), _) if n.is_known() && *n != Value::Str(o.to_string()) => cbd,
        (Some(_), _, Some(p)) => dbc_because(format!(
            "`{p}` is set in the stack: AWS allows one {what} of that name"
        )),
        _ => dbc_because(format!("AWS allows one {what} of its name")),
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;

    fn gen(stack: &str, name: &str, max_len: usize) -> GeneratedName {
        GeneratedName {
            prop: "name",
            base: iac_stack::schema::aws_name(stack, name, max_len),
            short: iac_stack::schema::aws_name(stack, name, max_len - FRESH_SUFFIX_LEN - 1),
        }
    }

    fn inputs(port: i64) -> Value {
        let mut m = IndexMap::new();
        m.insert("name".to_string(), Value::Str("ignored".into()));
        m.insert("port".to_string(), Value::Int(port));
        Value::Map(m)
    }

    #[test]
    fn fresh_names_alternate_fit_the_limit_and_depend_on_the_inputs() {
        let g = gen("a-rather-long-stack-name", "web_target_group", 32);
        assert!(g.base.len() <= 32);
        let fresh = g.fresh(&g.base, &inputs(8080));
        assert_eq!(fresh.len(), 32, "{fresh}");
        assert!(g.is_generated(&fresh) && g.is_generated(&g.base));
        assert_ne!(fresh, g.base);
        // Deterministic, and the name itself does not feed the hash.
        let mut renamed = inputs(8080);
        set_prop(&mut renamed, "name", Value::Str("other".into()));
        assert_eq!(g.fresh(&g.base, &renamed), fresh);
        assert_ne!(g.fresh(&g.base, &inputs(9090)), fresh);
        // From a fresh name (or any other) back to the base.
        assert_eq!(g.fresh(&fresh, &inputs(9090)), g.base);
        assert_eq!(g.fresh("hand-made", &inputs(9090)), g.base);
    }

    #[test]
    fn only_the_base_and_suffixed_bases_count_as_generated() {
        let g = gen("demo", "web_tg", 32);
        assert_eq!(g.base, "demo-web-tg");
        assert!(g.is_generated("demo-web-tg-0a1b2c"));
        for other in [
            "demo-web-tg-0a1b2",
            "demo-web-tg-0a1b2cd",
            "demo-web-tg-zzzzzz",
            "demo-web-tg0a1b2c",
            "web",
        ] {
            assert!(!g.is_generated(other), "{other}");
        }
    }
}
