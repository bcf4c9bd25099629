//! Small helpers shared by plan, apply and the fake provider.

use iac_stack::schema::{Kind, Prop, TypeSchema};
use iac_stack::value::{path_segments, PathSeg};
use iac_stack::Value;

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`), for
/// hashes written to files (stack hash, lineage).
pub(crate) fn fnv64(bytes: &[u8]) -> u64 {
    let mut w = Fnv64::default();
    w.add(bytes);
    w.0
}

/// FNV-1a over everything written to it: [`fnv64`] of a serialisation without building it.
#[derive(Debug)]
pub(crate) struct Fnv64(pub u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl std::io::Write for Fnv64 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.add(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `parent.key` (or `key` at the top).
pub(crate) fn child_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// True when `path` is `prefix` or inside it (`health_check` covers `health_check.path`,
/// `containers` covers `containers[0].image`).
pub(crate) fn path_within(path: &str, prefix: &str) -> bool {
    path == prefix
        || (path.starts_with(prefix)
            && matches!(path.as_bytes().get(prefix.len()), Some(b'.') | Some(b'[')))
}

/// Values equal for diffing: a missing key and `null` are the same.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => true,
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The paths at which `desired` and `current` differ: maps recurse by key, lists of equal
/// length by index, anything else compares whole. A value not known before apply always
/// counts as a difference.
pub(crate) fn diff_paths(desired: &Value, current: &Value, prefix: &str, out: &mut Vec<String>) {
    match (desired, current) {
        (Value::Map(a), Value::Map(b)) => {
            for (k, av) in a {
                let p = child_path(prefix, k);
                match b.get(k) {
                    Some(bv) => diff_paths(av, bv, &p, out),
                    None if matches!(av, Value::Null) => {}
                    None => out.push(p),
                }
            }
            for (k, bv) in b {
                if !a.contains_key(k) && !matches!(bv, Value::Null) {
                    out.push(child_path(prefix, k));
                }
            }
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() && !a.is_empty() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                diff_paths(av, bv, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {
            if !desired.is_known() || !same(Some(desired), Some(current)) {
                out.push(prefix.to_string());
            }
        }
    }
}

/// Whether `a` and `b` agree at `path` (missing and null agree).
pub(crate) fn same_at(a: &Value, b: &Value, path: &str) -> bool {
    same(a.at_path(path), b.at_path(path))
}

/// The replace-marked property that a change at `path` runs into, if any: a change inside
/// a replace-marked object forces replacement too.
pub(crate) fn forcing_prop(schema: &TypeSchema, path: &str) -> bool {
    let keys: Vec<&str> = path_segments(path)
        .into_iter()
        .filter_map(|s| match s {
            PathSeg::Key(k) => Some(k),
            PathSeg::Index(_) => None,
        })
        .collect();
    forces(schema.props, &keys)
}

fn forces(props: &[Prop], keys: &[&str]) -> bool {
    let Some((first, rest)) = keys.split_first() else {
        return false;
    };
    let Some(p) = props.iter().find(|p| p.name == *first) else {
        return false;
    };
    if p.replace {
        return true;
    }
    match fields_of(&p.kind) {
        Some(fields) => forces(fields, rest),
        None => false,
    }
}

fn fields_of(kind: &Kind) -> Option<&'static [Prop]> {
    match kind {
        Kind::Object(f) => Some(f),
        Kind::ListOf(k) => fields_of(k),
        _ => None,
    }
}

/// The property paths to hand an update that takes an object found after an interrupted
/// create (never fully applied) to `desired`: every path where the live inputs differ, plus
/// the `unread` properties the stack sets, because what a read says of those is a guess
/// (see `Provider::unread_props`). Paths under replace-marked properties are left out: an
/// update cannot change them. The plan and the apply both use it, so what the plan shows is
/// what the apply sends.
pub(crate) fn adopt_paths(
    rtype: &str,
    desired: &Value,
    live: &serde_json::Value,
    unread: &[&str],
) -> Vec<String> {
    let l = Value::from(live.clone());
    let mut out = Vec::new();
    diff_paths(desired, &l, "", &mut out);
    if let Value::Map(map) = desired {
        for k in map.keys() {
            if unread.contains(&k.as_str()) && !out.iter().any(|p| p == k || path_within(p, k)) {
                out.push(k.clone());
            }
        }
    }
    if let Some(schema) = iac_stack::schema::lookup(rtype) {
        out.retain(|p| !forcing_prop(schema, p));
    }
    out
}

/// Depth-first post-order over the nodes `0..next.len()`: from each root in turn, every
/// node after all the nodes `next` leads it to (in the order `next` lists them) that were not
/// placed before. A node is entered once, so a cycle cannot loop. The engine's one
/// topological sort: iterative, linear in nodes and edges, deterministic.
pub(crate) fn post_order(
    next: &[Vec<usize>],
    roots: impl IntoIterator<Item = usize>,
) -> Vec<usize> {
    let mut entered = vec![false; next.len()];
    let mut out = Vec::with_capacity(next.len());
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in roots {
        if std::mem::replace(&mut entered[root], true) {
            continue;
        }
        path.push((root, 0));
        while let Some(top) = path.last_mut() {
            let (n, i) = *top;
            match next[n].get(i) {
                Some(&m) => {
                    top.1 += 1;
                    if !std::mem::replace(&mut entered[m], true) {
                        path.push((m, 0));
                    }
                }
                None => {
                    out.push(n);
                    path.pop();
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn diff_recurses_maps_and_equal_lists() {
        let a = v(serde_json::json!({"x": 1, "h": {"p": "/a", "i": 5}, "l": [1, 2], "m": [1]}));
        let b = v(
            serde_json::json!({"x": 1, "h": {"p": "/b", "i": 5}, "l": [1, 3], "m": [1, 2], "gone": 1}),
        );
        let mut out = Vec::new();
        diff_paths(&a, &b, "", &mut out);
        assert_eq!(out, ["h.p", "l[1]", "m", "gone"]);
    }

    #[test]
    fn missing_and_null_agree() {
        let a = v(serde_json::json!({"x": null}));
        let b = v(serde_json::json!({}));
        let mut out = Vec::new();
        diff_paths(&a, &b, "", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn paths_nest() {
        assert!(path_within("health_check.path", "health_check"));
        assert!(path_within("containers[0].image", "containers"));
        assert!(!path_within("containers_x", "containers"));
    }

    #[test]
    fn post_order_places_each_node_after_what_it_leads_to_once() {
        // 0 -> 2 -> 1, 3 -> 0, a cycle 4 <-> 5 and a self-loop on 6.
        let next = vec![vec![2], vec![], vec![1], vec![0], vec![5], vec![4], vec![6]];
        assert_eq!(post_order(&next, 0..next.len()), [1, 2, 0, 3, 5, 4, 6]);
        assert_eq!(post_order(&next, [3]), [1, 2, 0, 3]);
    }
}
