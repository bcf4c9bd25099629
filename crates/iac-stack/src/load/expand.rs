//! Composite resources (`aws.web_service`): each expanded into its children, ordinary
//! resources named `PARENT.CHILD`, before any resource is loaded.
//!
//! The children are YAML nodes built from the bodies in `schema/composite.rs`: a `$FIELD`
//! scalar becomes the parent's own node for that field (its span included), anything the
//! body writes itself takes the span of the parent's `type:`. The loader then checks the
//! children like any resource, so every rule applies to them and every diagnostic points at
//! the parent field (or the `overrides:` entry) a bad value came from.

use std::collections::HashMap;

use super::*;
use crate::schema::composite::{self, Composite, When};

mod overrides;

/// The fields of one composite in the file.
/// A web service's network as written: what a service sharing its load balancer runs in.
struct Network {
    /// It shares another's load balancer itself.
    shares: bool,
    vpc: Option<Node>,
    public_subnets: Option<Node>,
    private_subnets: Option<Node>,
    /// `subnets: private` (its own network with private subnets behind NAT gateways).
    private: bool,
}

struct Parent<'n> {
    name: String,
    key: &'n Node,
    body: &'n Node,
    schema: &'static Composite,
    type_key: Span,
    type_span: Span,
    fields: HashMap<&'n str, &'n Node>,
}

impl Loader<'_> {
    /// `resources:` entries with every composite replaced by its children, in place; the
    /// rest cloned as they are. Linear in the size of the file.
    /// The flag tells a child (named by the loader) from an entry of the file.
    pub(super) fn expand(&mut self, entries: &[(Node, Node)]) -> Vec<(Node, Node, bool)> {
        let composites: HashMap<String, &'static Composite> = entries
            .iter()
            .filter_map(|(k, body)| {
                let c = composite_type(body)?;
                Some((k.key_text()?, c))
            })
            .collect();
        // The names each shared load balancer also answers for: its certificate covers them;
        // and the network of each web service, which a service sharing its load balancer uses.
        let mut sharers: HashMap<String, Vec<Node>> = HashMap::new();
        let mut networks: HashMap<String, Network> = HashMap::new();
        for (k, body) in entries.iter().filter(|(_, b)| composite_type(b).is_some()) {
            let field = |f: &str| {
                body.as_map()?
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(f))
                    .map(|(_, v)| v)
            };
            if let Some(name) = k.key_text() {
                networks.insert(
                    name,
                    Network {
                        shares: field("load_balancer").is_some(),
                        vpc: field("vpc").cloned(),
                        public_subnets: field("public_subnets").cloned(),
                        private_subnets: field("private_subnets").cloned(),
                        private: field("subnets").and_then(Node::as_str) == Some("private"),
                    },
                );
            }
            let Some(front) = field("load_balancer")
                .and_then(Node::as_str)
                .map(front_name)
            else {
                continue;
            };
            let host = match (field("host"), field("path")) {
                (Some(h), _) => Some(h),
                (None, None) => field("domain"),
                (None, Some(_)) => None,
            };
            sharers
                .entry(front.to_string())
                .or_default()
                .extend(host.cloned());
        }
        let mut out = Vec::with_capacity(entries.len());
        for (k, body) in entries {
            match composite_type(body) {
                Some(c) => {
                    let name = k.key_text().unwrap_or_default();
                    if let Some(p) = self.parent(name, k, body, c) {
                        let names = sharers.get(&p.name).cloned().unwrap_or_default();
                        let children = self.children(&p, &composites, &networks, names);
                        out.extend(children.into_iter().map(|(k, b)| (k, b, true)));
                    }
                }
                None => out.push((k.clone(), body.clone(), false)),
            }
        }
        out
    }

    /// The parent's fields, with unknown and missing ones reported.
    fn parent<'n>(
        &mut self,
        name: String,
        key: &'n Node,
        body: &'n Node,
        schema: &'static Composite,
    ) -> Option<Parent<'n>> {
        let entries = body.as_map()?;
        if !is_ident(&name) {
            // Its children, `NAME.CHILD`, need a plain name before the dot.
            self.error(
                Diag::error(
                    "iac::resource::invalid_name",
                    format!("invalid resource name `{name}`"),
                )
                .label(key.span, "must match `[a-z][a-z0-9_]*`")
                .help("use lowercase letters, digits and `_`, starting with a letter"),
            );
            return None;
        }
        let mut p = Parent {
            name,
            key,
            body,
            schema,
            type_key: key.span,
            type_span: key.span,
            fields: HashMap::new(),
        };
        for (k, v) in entries {
            let field = k.as_str().unwrap_or_default();
            if field == "type" {
                p.type_key = k.span;
                p.type_span = v.span;
            } else if let Some(f) = schema.props.iter().find(|f| f.name == field) {
                // The children check every value they are given; an allowed value chooses
                // which children there are, so it is checked here (`subnets: privat` would
                // quietly make public subnets).
                if let (Kind::Enum(allowed), Some(text)) = (&f.kind, v.as_str()) {
                    if !text.contains("${") && !allowed.contains(&text) {
                        let listed = format!("use one of {}", backticked(allowed.iter().copied()));
                        self.error(
                            Diag::error(
                                "iac::value::invalid_enum",
                                format!("invalid value for `{}.{field}`: `{text}`", p.name),
                            )
                            .label(v.span, "not an allowed value")
                            .help(
                                match did_you_mean(text, allowed.iter().copied()) {
                                    Some(near) => format!("did you mean `{near}`? {listed}"),
                                    None => listed,
                                },
                            ),
                        );
                    }
                }
                p.fields.insert(field, v);
            } else {
                let names = schema.props.iter().map(|f| f.name);
                let help = suggest(field, names.clone(), || {
                    format!("`{}` has the fields {}", schema.name, backticked(names))
                });
                self.error(
                    Diag::error(
                        "iac::resource::unknown_property",
                        format!(
                            "unknown field `{field}` on `{}` (`{}`)",
                            p.name, schema.name
                        ),
                    )
                    .label(k.span, "unknown field")
                    .help(help),
                );
            }
        }
        let mut complete = true;
        for f in schema.props.iter().filter(|f| f.required) {
            if !p.fields.contains_key(f.name) {
                complete = false;
                self.error(
                    Diag::error(
                        "iac::resource::missing_property",
                        format!(
                            "`{}` (`{}`) is missing required field `{}`",
                            p.name, schema.name, f.name
                        ),
                    )
                    .label(key.span, format!("no `{}:`", f.name))
                    .help(format!(
                        "add `{}:` ({})",
                        f.name,
                        f.doc.trim_end_matches('.')
                    )),
                );
            }
        }
        let needs = [
            ("vpc", "public_subnets"),
            ("private_subnets", "vpc"),
            ("public_subnets", "vpc"),
            ("host", "load_balancer"),
            ("path", "load_balancer"),
        ];
        for (given, needed) in needs {
            if let (Some(n), false) = (p.fields.get(given), p.fields.contains_key(needed)) {
                complete = false;
                self.error(
                    Diag::error(
                        "iac::web_service::needs_field",
                        format!("`{given}` of `{}` needs `{needed}`", p.name),
                    )
                    .label(n.span, format!("without `{needed}:`"))
                    .help(format!("add `{needed}:` or remove `{given}:`")),
                );
            }
        }
        // Private tasks in a given VPC need its private subnets: in the public ones without
        // public IPs they could not pull their image.
        let private = p.fields.get("subnets").and_then(|n| n.as_str()) == Some("private");
        if let (true, Some(_), None) = (
            private,
            p.fields.get("vpc"),
            p.fields.get("private_subnets"),
        ) {
            complete = false;
            self.error(
                Diag::error(
                    "iac::web_service::needs_field",
                    format!("`subnets: private` of `{}` in a given `vpc` needs `private_subnets`", p.name),
                )
                .label(p.fields["subnets"].span, "without `private_subnets:`")
                .help("add `private_subnets:` (subnets with a route to a NAT gateway) or remove `subnets: private`"),
            );
        }
        complete.then_some(p)
    }

    /// The children of one parent, overrides applied.
    fn children(
        &mut self,
        p: &Parent<'_>,
        composites: &HashMap<String, &'static Composite>,
        networks: &HashMap<String, Network>,
        alternative_names: Vec<Node>,
    ) -> Vec<(Node, Node)> {
        let at = |kind: NodeKind| Node {
            kind,
            span: p.type_span,
            text_start: None,
        };
        let str_at = |s: String| at(NodeKind::Str(s));
        let field = |f: &str| p.fields.get(f).copied();
        let private = field("subnets").and_then(Node::as_str) == Some("private");
        let front = match field("load_balancer") {
            None => p.name.clone(),
            Some(n) => match n.as_str().map(front_name) {
                Some(f) if f != p.name && composites.contains_key(f) => f.to_string(),
                _ => {
                    let help = suggest(
                        n.as_str().unwrap_or_default(),
                        composites.keys().map(String::as_str),
                        || "name another `aws.web_service` of this stack".to_string(),
                    );
                    self.error(
                        Diag::error(
                            "iac::web_service::load_balancer",
                            format!(
                                "`load_balancer` of `{}` must name another `aws.web_service` of the stack",
                                p.name
                            ),
                        )
                        .label(n.span, "not a web service of this stack")
                        .help(help),
                    );
                    return Vec::new();
                }
            },
        };
        let shared = front != p.name;
        let front_net = networks.get(&front).filter(|_| shared);
        if let Some(net) = front_net {
            // One load balancer, one network: the owner's.
            let problem = if net.shares {
                Some(("", format!("`{front}` shares another web service's load balancer itself: name the web service that owns it")))
            } else if let Some(f) = ["vpc", "public_subnets", "private_subnets"]
                .into_iter()
                .find(|f| p.fields.contains_key(f))
            {
                Some((f, format!("`{}` shares the load balancer of `{front}` and runs in its network: leave `{f}` out (set it on `{front}`)", p.name)))
            } else if private && !net.private && net.private_subnets.is_none() {
                Some(("subnets", format!("`{}` shares the load balancer of `{front}`, whose network has no private subnets: set `subnets: private` (or `private_subnets`) on `{front}`, or leave `subnets` out here", p.name)))
            } else {
                None
            };
            if let Some((f, message)) = problem {
                let span = p
                    .fields
                    .get(if f.is_empty() { "load_balancer" } else { f })
                    .map_or(p.type_span, |n| n.span);
                self.error(
                    Diag::error(
                        "iac::web_service::load_balancer",
                        format!("`{}` cannot share the load balancer of `{front}`", p.name),
                    )
                    .label(span, "not with a shared load balancer")
                    .help(message),
                );
                return Vec::new();
            }
        }

        // The values `$NAME` stands for: the parent's fields, then the derived ones.
        let mut values: HashMap<&str, Node> = HashMap::new();
        for (f, n) in &p.fields {
            values.insert(f, (*n).clone());
        }
        let defaults: [(&str, NodeKind); 4] = [
            ("health_check", NodeKind::Str("/".into())),
            ("cpu", NodeKind::Int(256)),
            ("memory", NodeKind::Int(512)),
            ("count", NodeKind::Int(1)),
        ];
        for (f, v) in defaults {
            values.entry(f).or_insert_with(|| at(v));
        }
        let count = values["count"].clone();
        match &count.kind {
            NodeKind::Map(entries) => {
                let min = entries.iter().find(|(k, _)| k.as_str() == Some("min"));
                values.insert(
                    "desired_count",
                    min.map_or(count.clone(), |(_, v)| v.clone()),
                );
                values.insert("scaling", count);
            }
            _ => {
                values.insert("desired_count", count);
            }
        }
        let own = |child: &str, attr: &str| str_at(format!("${{{}.{child}.{attr}}}", p.name));
        // A service sharing a load balancer uses the network of the one that owns it.
        let net_owner = if shared { &front } else { &p.name };
        let net_ref = |child: &str| str_at(format!("${{{net_owner}.{child}.id}}"));
        // The network fields written: the owner's when sharing (checked above: none here).
        let net_field = |f: &str| -> Option<Node> {
            match front_net {
                Some(net) => match f {
                    "vpc" => net.vpc.clone(),
                    "public_subnets" => net.public_subnets.clone(),
                    _ => net.private_subnets.clone(),
                },
                None => field(f).cloned(),
            }
        };
        let own_network = net_field("vpc").is_none();
        values.insert("vpc", net_field("vpc").unwrap_or_else(|| net_ref("vpc")));
        let pair = |a: &str, b: &str| at(NodeKind::Seq(vec![net_ref(a), net_ref(b)]));
        let lb_subnets =
            net_field("public_subnets").unwrap_or_else(|| pair("public_a", "public_b"));
        let private_subnets = net_field("private_subnets");
        let task_subnets = match (private_subnets.as_ref(), private && own_network) {
            (Some(s), _) => s.clone(),
            (None, true) => pair("private_a", "private_b"),
            (None, false) => lb_subnets.clone(),
        };
        let public_tasks = private_subnets.is_none() && !private;
        values.insert("lb_subnets", lb_subnets);
        values.insert("task_subnets", task_subnets);
        values.insert("assign_public_ip", at(NodeKind::Bool(public_tasks)));
        values.insert(
            "cluster",
            match field("cluster") {
                Some(v) => v.clone(),
                None => own("cluster", "arn"),
            },
        );
        let cidrs: Vec<Node> = match field("allowed_cidrs") {
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => items.clone(),
                _ => vec![n.clone()],
            },
            None => vec![str_at("0.0.0.0/0".into()), str_at("::/0".into())],
        };
        let mut ingress = Vec::new();
        for (port, name) in [(80, "HTTP"), (443, "HTTPS")] {
            for cidr in &cidrs {
                let v6 = cidr.as_str().is_some_and(|c| c.contains(':'));
                let description = match (port, v6) {
                    (80, false) => "HTTP, redirected to HTTPS".to_string(),
                    (_, true) => format!("{name} over IPv6"),
                    (_, false) => name.to_string(),
                };
                let entry = |k: &str, v: Node| (str_at(k.into()), v);
                ingress.push(at(NodeKind::Map(vec![
                    entry("protocol", str_at("tcp".into())),
                    entry("port", at(NodeKind::Int(port))),
                    entry("cidr", cidr.clone()),
                    entry("description", str_at(description)),
                ])));
            }
        }
        values.insert("alb_ingress", at(NodeKind::Seq(ingress)));
        let who = if field("allowed_cidrs").is_some() {
            "the allowed CIDRs"
        } else {
            "the internet"
        };
        values.insert(
            "alb_sg_description",
            str_at(format!(
                "{} load balancer - HTTP and HTTPS from {who}",
                self.stack_name
            )),
        );
        if shared {
            let mut conditions = Vec::new();
            let host = field("host")
                .or_else(|| field("path").is_none().then(|| field("domain")).flatten());
            if let Some(h) = host {
                conditions.push((
                    str_at("host_header".into()),
                    at(NodeKind::Seq(vec![h.clone()])),
                ));
            }
            if let Some(path) = field("path") {
                conditions.push((
                    str_at("path_pattern".into()),
                    at(NodeKind::Seq(vec![path.clone()])),
                ));
            }
            values.insert("conditions", at(NodeKind::Map(conditions)));
        }

        if !alternative_names.is_empty() {
            values.insert("alternative_names", at(NodeKind::Seq(alternative_names)));
        }
        let path_only = field("path").is_some() && field("host").is_none();
        let holds = |w: When| match w {
            When::OwnName => !(shared && path_only),
            When::Always => true,
            When::OwnNetwork => own_network && !shared,
            When::OwnPrivateNetwork => own_network && private && !shared,
            When::OwnCluster => field("cluster").is_none(),
            When::OwnLoadBalancer => !shared,
            When::SharedLoadBalancer => shared,
        };
        let mut children: Vec<(String, Node, Node)> = Vec::new();
        for child in p.schema.children.iter().filter(|c| holds(c.when)) {
            let text = child
                .body
                .replace("PARENT", &p.name)
                .replace("$front", &front);
            let src = SourceFile::new(format!("{}.{}", p.schema.name, child.name), text);
            let mut sink = Diagnostics::default();
            let Some(mut body) = yaml::parse(&src, &mut sink) else {
                continue;
            };
            debug_assert!(!sink.has_errors(), "{}: {:?}", child.name, sink.0);
            respan(&mut body, p.type_span);
            let Some(body) = substitute(body, &values) else {
                continue;
            };
            let mut entries = match body.kind {
                NodeKind::Map(e) => e,
                _ => Vec::new(),
            };
            entries.insert(
                0,
                (
                    Node {
                        kind: NodeKind::Str("type".into()),
                        span: p.type_key,
                        text_start: None,
                    },
                    str_at(child.rtype.into()),
                ),
            );
            let key = Node {
                kind: NodeKind::Str(format!("{}.{}", p.name, child.name)),
                span: p.key.span,
                text_start: None,
            };
            children.push((
                child.name.to_string(),
                key,
                Node {
                    kind: NodeKind::Map(entries),
                    span: p.body.span,
                    text_start: None,
                },
            ));
        }
        if let Some(overrides) = field("overrides") {
            self.apply_overrides(p, overrides, &mut children);
        }
        children.into_iter().map(|(_, k, b)| (k, b)).collect()
    }
}

/// The composite a resource body's `type:` names, if it names one.
fn composite_type(body: &Node) -> Option<&'static Composite> {
    let (_, t) = body
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some("type"))?;
    composite::composite(t.as_str()?)
}

/// Every node of a body written by the table gets the parent's span.
fn respan(node: &mut Node, span: Span) {
    node.span = span;
    node.text_start = None;
    match &mut node.kind {
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| respan(n, span)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            respan(k, span);
            respan(v, span);
        }),
        _ => {}
    }
}

/// `$NAME` scalars replaced by their values; `None` for one without a value, which drops
/// the map entry or list item holding it.
fn substitute(node: Node, values: &HashMap<&str, Node>) -> Option<Node> {
    match node.kind {
        NodeKind::Str(ref s) if s.starts_with('$') && !s.starts_with("${") => {
            values.get(&s[1..]).cloned()
        }
        NodeKind::Seq(items) => Some(Node {
            kind: NodeKind::Seq(
                items
                    .into_iter()
                    .filter_map(|n| substitute(n, values))
                    .collect(),
            ),
            ..node
        }),
        NodeKind::Map(entries) => Some(Node {
            kind: NodeKind::Map(
                entries
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, substitute(v, values)?)))
                    .collect(),
            ),
            ..node
        }),
        _ => Some(node),
    }
}

/// The web service a `load_balancer:` names: its name (`shop`), or its load balancer as a
/// reference (`${shop.alb}`, `${shop.alb.arn}`).
fn front_name(text: &str) -> &str {
    match text
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .and_then(|t| {
            t.strip_suffix(".alb")
                .or_else(|| t.strip_suffix(".alb.arn"))
        }) {
        Some(name) if !name.is_empty() && !name.contains(['.', '$', '{', '}']) => name,
        _ => text,
    }
}
