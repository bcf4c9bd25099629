//! The usage behind usage-priced items: the stack's `usage:` section, and the default
//! assumed for each key it leaves out (printed with every estimate that uses it).

use iac_stack::schema::USAGE_KEYS;
use indexmap::IndexMap;

/// The default of each key of `usage:` (see [`USAGE_KEYS`] for what each measures): a small
/// web app's figures. Chosen to be stated, not to be right for every stack.
pub const DEFAULTS: &[(&str, f64)] = &[
    ("alb_lcu_per_hour", 0.1),
    ("nat_gb_per_month", 10.0),
    ("log_gb_per_month", 1.0),
    ("route53_queries_per_month_millions", 0.1),
    ("ecr_gb", 1.0),
];

/// One usage figure, and whether it is the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub assumed: bool,
}

/// The usage of a stack: its `usage:` values over [`DEFAULTS`].
#[derive(Debug, Clone, Default)]
pub struct Usage {
    given: IndexMap<String, f64>,
}

impl Usage {
    /// The usage a stack's `usage:` gives (keys checked by the stack loader).
    pub fn new(given: &IndexMap<String, f64>) -> Usage {
        Usage {
            given: given.clone(),
        }
    }

    /// The figure for `key`, one of [`USAGE_KEYS`].
    pub fn get(&self, key: &str) -> Figure {
        match self.given.get(key) {
            Some(v) => Figure {
                value: *v,
                assumed: false,
            },
            None => Figure {
                value: default_of(key),
                assumed: true,
            },
        }
    }

    /// The figure for `key` with how a line item states it ([`Usage::describe`]).
    pub fn stated(&self, key: &str) -> (f64, String) {
        (self.get(key).value, self.describe(key))
    }

    /// How a line item states its usage: `usage.alb_lcu_per_hour: 0.5`, or
    /// `assumed alb_lcu_per_hour 0.1 (set usage.alb_lcu_per_hour)`.
    pub fn describe(&self, key: &str) -> String {
        let f = self.get(key);
        if f.assumed {
            format!("assumed {key} {} (set usage.{key})", f.value)
        } else {
            format!("usage.{key}: {}", f.value)
        }
    }
}

/// The default of `key`. Every key of [`USAGE_KEYS`] has one (a test says so).
fn default_of(key: &str) -> f64 {
    DEFAULTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("usage key `{key}` has no default"))
}

/// The keys of [`USAGE_KEYS`], for checks.
pub fn keys() -> impl Iterator<Item = &'static str> {
    USAGE_KEYS.iter().map(|k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_usage_key_of_the_stack_format_has_a_default_and_no_other_key_does() {
        let keys: Vec<&str> = keys().collect();
        let defaults: Vec<&str> = DEFAULTS.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, defaults);
    }

    #[test]
    fn the_stack_wins_over_the_default() {
        let mut given = IndexMap::new();
        given.insert("ecr_gb".to_string(), 5.0);
        let u = Usage::new(&given);
        assert_eq!(
            u.get("ecr_gb"),
            Figure {
                value: 5.0,
                assumed: false
            }
        );
        assert_eq!(
            u.get("log_gb_per_month"),
            Figure {
                value: 1.0,
                assumed: true
            }
        );
        assert_eq!(u.describe("ecr_gb"), "usage.ecr_gb: 5");
        assert_eq!(
            u.describe("log_gb_per_month"),
            "assumed log_gb_per_month 1 (set usage.log_gb_per_month)"
        );
    }
}
