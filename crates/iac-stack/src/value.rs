//! Property values after vars are substituted: plain data plus references to other
//! resources' attributes, which only become known during apply.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// `${NAME.ATTR}`: an attribute of another resource. Each one is an edge of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    pub resource: String,
    pub attr: String,
}

impl Reference {
    /// `NAME.ATTR` read as a reference: the attribute is after the last dot, so a child of a
    /// web service (`web.alb.dns_name`) reads as `dns_name` of `web.alb`. Unchecked: the
    /// loader checks both names.
    pub fn parse(text: &str) -> Option<Reference> {
        let (resource, attr) = text.rsplit_once('.')?;
        Some(Reference {
            resource: resource.into(),
            attr: attr.into(),
        })
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{{}.{}}}", self.resource, self.attr)
    }
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Text(String),
    Ref(Reference),
}

/// A property value. Vars, `${region}` and `${stack}` are already substituted; resource
/// references remain as `Ref` (a whole value, keeps the referenced type) or `Template`
/// (a reference inside a longer string, interpolated as text).
///
/// Serialises as plain JSON for known values; references serialise as
/// `{"$ref": "NAME.ATTR"}` and templates as `{"$template": [...]}` so saved plans round-trip.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(IndexMap<String, Value>),
    Ref(Reference),
    Template(Vec<Part>),
}

impl Value {
    /// Text with `${NAME.ATTR}` references read the way the loader reads them, unchecked:
    /// a reference alone is a `Ref`, text around references a `Template`, else a `Str`.
    /// For stacks built in code (tests); a stack file goes through the loader.
    #[doc(hidden)]
    pub fn with_refs(text: &str) -> Value {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let inner = &rest[start + 2..start + len];
            parts.push(Part::Ref(
                Reference::parse(inner).expect("a reference is NAME.ATTR"),
            ));
            rest = &rest[start + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        match parts.as_slice() {
            [Part::Ref(r)] => Value::Ref(r.clone()),
            [Part::Text(t)] => Value::Str(t.clone()),
            [] => Value::Str(String::new()),
            _ => Value::Template(parts),
        }
    }

    /// True when the value contains no resource reference, so it is known before apply.
    pub fn is_known(&self) -> bool {
        match self {
            Value::Ref(_) | Value::Template(_) => false,
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(m) => m.values().all(Value::is_known),
            _ => true,
        }
    }

    /// Every resource reference inside the value, in order of appearance.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match self {
            Value::Ref(r) => out.push(r),
            Value::Template(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                Part::Text(_) => None,
            })),
            Value::List(items) => items.iter().for_each(|v| v.collect_refs(out)),
            Value::Map(m) => m.values().for_each(|v| v.collect_refs(out)),
            _ => {}
        }
    }

    /// Substitute references with known values. `lookup` returns `None` for a value still
    /// unknown, which leaves that reference in place.
    pub fn resolve(&self, lookup: &dyn Fn(&Reference) -> Option<serde_json::Value>) -> Value {
        match self {
            Value::Ref(r) => lookup(r).map(Value::from).unwrap_or_else(|| self.clone()),
            Value::Template(parts) => {
                let mut out: Vec<Part> = Vec::new();
                for p in parts {
                    let piece = match p {
                        Part::Text(t) => Part::Text(t.clone()),
                        Part::Ref(r) => match lookup(r) {
                            Some(v) => Part::Text(json_as_text(&v)),
                            None => Part::Ref(r.clone()),
                        },
                    };
                    match (out.last_mut(), piece) {
                        (Some(Part::Text(prev)), Part::Text(t)) => prev.push_str(&t),
                        (_, piece) => out.push(piece),
                    }
                }
                match out.as_slice() {
                    [] => Value::Str(String::new()),
                    [Part::Text(t)] => Value::Str(t.clone()),
                    _ => Value::Template(out),
                }
            }
            Value::List(items) => Value::List(items.iter().map(|v| v.resolve(lookup)).collect()),
            Value::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.resolve(lookup)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The JSON form of a fully known value; `None` while any reference remains.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) => {
                J::Array(items.iter().map(Value::to_json).collect::<Option<_>>()?)
            }
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
            Value::Ref(_) | Value::Template(_) => return None,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&IndexMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// `value.get("health_check")`: a key of a map value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }
    /// The value at `path` ([`path_segments`]) below this one, e.g. `containers[0].image`
    /// of a resource's properties.
    pub fn at_path(&self, path: &str) -> Option<&Value> {
        let mut cur = self;
        for seg in path_segments(path) {
            cur = match seg {
                PathSeg::Key(k) => cur.get(k)?,
                PathSeg::Index(i) => cur.as_list()?.get(i)?,
            };
        }
        Some(cur)
    }
}

/// One step of a property path: a map key or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSeg<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of a property path, the one way paths are read:
/// `containers[0].image` -> `Key(containers), Index(0), Key(image)`.
pub fn path_segments(path: &str) -> Vec<PathSeg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(PathSeg::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(PathSeg::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// How a known value reads inside an interpolated string.
pub fn json_as_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => n
                .as_i64()
                .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
            J::String(s) => Value::Str(s),
            J::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            J::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(x) => s.serialize_str(x),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Ref(r) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("$ref", &format!("{}.{}", r.resource, r.attr))?;
                map.end()
            }
            Value::Template(parts) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("$template", parts)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(d)?;
        Ok(from_tagged_json(json))
    }
}

fn from_tagged_json(json: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Object(o) if o.len() == 1 && o.contains_key("$ref") => {
            if let Some(J::String(s)) = o.get("$ref") {
                if let Some(r) = Reference::parse(s) {
                    return Value::Ref(r);
                }
            }
            Value::Map(
                o.into_iter()
                    .map(|(k, v)| (k, from_tagged_json(v)))
                    .collect(),
            )
        }
        J::Object(o) if o.len() == 1 && o.contains_key("$template") => {
            match serde_json::from_value::<Vec<Part>>(o["$template"].clone()) {
                Ok(parts) => Value::Template(parts),
                Err(_) => Value::Map(
                    o.into_iter()
                        .map(|(k, v)| (k, from_tagged_json(v)))
                        .collect(),
                ),
            }
        }
        J::Object(o) => Value::Map(
            o.into_iter()
                .map(|(k, v)| (k, from_tagged_json(v)))
                .collect(),
        ),
        J::Array(a) => Value::List(a.into_iter().map(from_tagged_json).collect()),
        other => Value::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_keys_and_indices() {
        assert_eq!(
            path_segments("containers[0].image"),
            [
                PathSeg::Key("containers"),
                PathSeg::Index(0),
                PathSeg::Key("image")
            ]
        );
        let v = Value::from(serde_json::json!({"containers": [{"image": "nginx"}]}));
        assert_eq!(
            v.at_path("containers[0].image"),
            Some(&Value::Str("nginx".into()))
        );
        assert_eq!(v.at_path("containers[1].image"), None);
    }

    #[test]
    fn a_reference_is_split_at_its_last_dot() {
        let r = Reference::parse("web.alb.dns_name").unwrap();
        assert_eq!(
            (r.resource.as_str(), r.attr.as_str()),
            ("web.alb", "dns_name")
        );
        assert_eq!(Reference::parse("nodot"), None);
    }
}
