//! The dependency graph of a stack (petgraph), its deterministic order and its drawings.
//!
//! One node per resource, in file order; one edge per pair of resources where one refers to
//! the other (`${NAME.ATTR}`) or lists it in `depends_on`. Edges run from the dependency to
//! its dependent (`vpc -> subnet`), so a topological order is a creation order and its
//! reverse a deletion order.
//!
//! Every query that returns several names returns them in a fixed order (file order or
//! topological order with ties broken by file order): plans, drawings and error messages
//! must not change from one run to the next.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction::{Incoming, Outgoing};

use crate::diag::Diag;
use crate::model::Resource;
use crate::{Diagnostics, Span, Stack};

/// Why [`StackGraph::from_parts`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("resource `{0}` is listed twice")]
    DuplicateNode(String),
    #[error("an edge names `{0}`, which is not a node of the graph")]
    UnknownNode(String),
    /// The names of one cycle: each depends on the next, the last on the first.
    #[error("dependency cycle `{}`", cycle_text(.0))]
    Cycle(Vec<String>),
}

/// `a -> b -> a`.
fn cycle_text(names: &[String]) -> String {
    let mut out = names.join(" -> ");
    if let Some(first) = names.first() {
        out.push_str(" -> ");
        out.push_str(first);
    }
    out
}

/// A resource as the graph knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// The `type:` value, e.g. `aws.vpc` (owned: a graph of a plan may hold types that only
    /// the state still names).
    pub rtype: String,
    /// `existing: true`: a lookup, drawn dashed.
    pub existing: bool,
}

/// Why a dependent needs its dependency: the weight of an edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    /// Attributes of the dependency the dependent reads (`id`, `arn`), sorted and
    /// deduplicated; empty when the edge comes from `depends_on` alone.
    pub attrs: Vec<String>,
    /// The dependent lists the dependency in `depends_on`.
    pub depends_on: bool,
}

/// Edges run from a dependency to its dependent (`vpc -> subnet`), so a topological order
/// is a creation order.
///
/// Built by [`StackGraph::build`]; a graph from a successful load is acyclic. `Default` is
/// the empty graph (used by tests that check rules without a graph).
#[derive(Debug, Clone, Default)]
pub struct StackGraph {
    /// The stack's name, the title of the drawings.
    stack: String,
    /// Node indices are file order: nodes are added in file order and never removed, so
    /// comparing indices compares file positions.
    graph: DiGraph<Node, Dependency>,
    index: HashMap<String, NodeIndex>,
    /// At least one cycle was found (and reported) while building.
    cyclic: bool,
}

impl StackGraph {
    /// Build the graph; each cycle is reported into `diags` once (`iac::graph::cycle`), with
    /// the whole cycle named and every reference that forms it labelled.
    ///
    /// References to unknown resources and a resource referring to itself are left out: the
    /// loader reports those, with better messages than a graph can give.
    pub fn build(stack: &Stack, diags: &mut Diagnostics) -> StackGraph {
        let mut graph = DiGraph::with_capacity(stack.resources.len(), 0);
        let mut index = HashMap::with_capacity(stack.resources.len());
        for (name, r) in &stack.resources {
            let ix = graph.add_node(Node {
                name: name.clone(),
                rtype: r.schema.name.to_string(),
                existing: r.existing,
            });
            index.insert(name.clone(), ix);
        }
        for (name, r) in &stack.resources {
            let to = index[name];
            for (dep, why) in direct_dependencies(r) {
                if dep == name.as_str() {
                    continue;
                }
                if let Some(&from) = index.get(dep) {
                    graph.add_edge(from, to, why);
                }
            }
        }
        let mut g = StackGraph {
            stack: stack.name.clone(),
            graph,
            index,
            cyclic: false,
        };
        g.report_cycles(stack, diags);
        g
    }

    /// Build a graph that does not come from a stack file, e.g. the engine's graph of a plan,
    /// which also holds resources only the state still knows (to be deleted). `nodes` give
    /// the tie-breaking order of [`StackGraph::topo_order`]; `edges` are
    /// `(dependency, dependent, why)`, and repeated pairs are merged.
    pub fn from_parts(
        stack: &str,
        nodes: impl IntoIterator<Item = Node>,
        edges: impl IntoIterator<Item = (String, String, Dependency)>,
    ) -> Result<StackGraph, GraphError> {
        let mut g = StackGraph {
            stack: stack.to_string(),
            ..StackGraph::default()
        };
        for n in nodes {
            if g.index.contains_key(&n.name) {
                return Err(GraphError::DuplicateNode(n.name));
            }
            let name = n.name.clone();
            let ix = g.graph.add_node(n);
            g.index.insert(name, ix);
        }
        for (from, to, why) in edges {
            let lookup = |n: &String| {
                g.index
                    .get(n)
                    .copied()
                    .ok_or_else(|| GraphError::UnknownNode(n.clone()))
            };
            let (a, b) = (lookup(&from)?, lookup(&to)?);
            if a == b {
                return Err(GraphError::Cycle(vec![from]));
            }
            match g.graph.find_edge(a, b) {
                Some(e) => {
                    let w = &mut g.graph[e];
                    let attrs: BTreeSet<String> = w.attrs.drain(..).chain(why.attrs).collect();
                    w.attrs = attrs.into_iter().collect();
                    w.depends_on |= why.depends_on;
                }
                None => {
                    let mut why = why;
                    why.attrs.sort();
                    why.attrs.dedup();
                    g.graph.add_edge(a, b, why);
                }
            }
        }
        if let Some(knot) = g.knots().first() {
            let cycle = g.cycle_in(knot);
            return Err(GraphError::Cycle(
                cycle.iter().map(|&n| g.graph[n].name.clone()).collect(),
            ));
        }
        Ok(g)
    }

    /// The resources in an order where every resource comes after all its dependencies:
    /// the order to create them in (reverse it to delete). Kahn's algorithm; among the
    /// resources ready at the same time the one written first in the file comes first, so
    /// the order is the same on every run.
    ///
    /// On a cyclic graph (which a successful load never returns) the resources on or after
    /// a cycle cannot be ordered; they are appended in file order.
    pub fn topo_order(&self) -> Vec<&str> {
        let g = &self.graph;
        let mut indegree: Vec<usize> = g
            .node_indices()
            .map(|n| g.neighbors_directed(n, Incoming).count())
            .collect();
        let mut ready: BinaryHeap<Reverse<NodeIndex>> = g
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .map(Reverse)
            .collect();
        let mut out = Vec::with_capacity(g.node_count());
        let mut placed = vec![false; g.node_count()];
        while let Some(Reverse(n)) = ready.pop() {
            out.push(g[n].name.as_str());
            placed[n.index()] = true;
            for m in g.neighbors_directed(n, Outgoing) {
                indegree[m.index()] -= 1;
                if indegree[m.index()] == 0 {
                    ready.push(Reverse(m));
                }
            }
        }
        out.extend(
            g.node_indices()
                .filter(|n| !placed[n.index()])
                .map(|n| g[n].name.as_str()),
        );
        out
    }

    /// What `name` depends on directly (what it refers to or lists in `depends_on`), in file
    /// order. Empty for an unknown name.
    pub fn dependencies(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Incoming)
    }

    /// What depends on `name` directly, in file order. Empty for an unknown name.
    pub fn dependents(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Outgoing)
    }

    /// Everything that depends on `name`, directly or through others, in topological order,
    /// without `name` itself: what `--target NAME` brings along, and what must wait when
    /// `name` fails. Empty for an unknown name.
    pub fn transitive_dependents(&self, name: &str) -> Vec<&str> {
        self.reachable(name, Outgoing)
    }

    /// Everything `name` depends on, directly or through others, in topological order,
    /// without `name` itself: what must exist before `name` can be created.
    /// Empty for an unknown name.
    pub fn transitive_dependencies(&self, name: &str) -> Vec<&str> {
        self.reachable(name, Incoming)
    }

    /// Why `dependent` depends on `dependency`, or `None` when it does not directly.
    pub fn dependency(&self, dependent: &str, dependency: &str) -> Option<&Dependency> {
        let from = *self.index.get(dependency)?;
        let to = *self.index.get(dependent)?;
        self.graph.find_edge(from, to).map(|e| &self.graph[e])
    }

    /// Every edge as `(dependency, dependent, why)`, in creation order: by the dependent's
    /// place in [`StackGraph::topo_order`], then the dependency's. Drawings list edges in this
    /// order, so they read top to bottom the way apply would go.
    pub fn edges(&self) -> Vec<(&str, &str, &Dependency)> {
        let mut rank = vec![0; self.graph.node_count()];
        for (i, name) in self.topo_order().into_iter().enumerate() {
            rank[self.index[name].index()] = i;
        }
        let mut edges: Vec<_> = self.graph.edge_references().collect();
        edges.sort_by_key(|e| (rank[e.target().index()], rank[e.source().index()]));
        edges
            .into_iter()
            .map(|e| {
                (
                    self.graph[e.source()].name.as_str(),
                    self.graph[e.target()].name.as_str(),
                    e.weight(),
                )
            })
            .collect()
    }

    /// The resources, in file order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    /// The resource called `name`, if the stack has one.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.index.get(name).map(|&i| &self.graph[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// True when building found a cycle (and reported it).
    pub fn is_cyclic(&self) -> bool {
        self.cyclic
    }

    /// The graph as Graphviz DOT: left to right in creation order, resources boxed as
    /// `name\ntype` and grouped by area (network, load balancing, ...), reference edges
    /// labelled with the attributes read, `depends_on` edges dashed. The text is the same
    /// on every run (file order throughout), so it can be committed and diffed.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", dot_quote(&self.stack));
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
        for (area, nodes) in self.areas() {
            let _ = writeln!(
                out,
                "\n  subgraph {} {{",
                dot_quote(&format!("cluster_{}", area.id))
            );
            let _ = writeln!(out, "    label={};", dot_quote(area.title));
            out.push_str("    style=dashed;\n    color=gray60;\n");
            for n in nodes {
                // A lookup is dashed; another stack's outputs a dashed folder.
                let style = if crate::schema::is_stack_ref(&n.rtype) {
                    ", shape=folder, style=dashed"
                } else if n.existing {
                    ", style=\"rounded,dashed\""
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    {} [label={}{style}];",
                    dot_quote(&n.name),
                    dot_quote(&format!("{}\n{}", n.name, n.rtype)),
                );
            }
            out.push_str("  }\n");
        }
        let edges = self.edges();
        if !edges.is_empty() {
            out.push('\n');
        }
        for (from, to, why) in edges {
            let attrs = if why.attrs.is_empty() {
                "style=dashed".to_string()
            } else {
                format!("label={}", dot_quote(&why.attrs.join(", ")))
            };
            let _ = writeln!(out, "  {} -> {} [{attrs}];", dot_quote(from), dot_quote(to));
        }
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart (renders in GitHub and GitLab markdown): the same
    /// layout, grouping, labels and edge styles as [`StackGraph::to_dot`].
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        if self.graph.node_weights().any(|n| n.existing) {
            out.push_str("  classDef existing stroke-dasharray: 5 5\n");
        }
        for (area, nodes) in self.areas() {
            let _ = writeln!(out, "  subgraph {}[\"{}\"]", area.mermaid_id, area.title);
            for n in nodes {
                let class = if n.existing { ":::existing" } else { "" };
                // Another stack's outputs: a subroutine shape; a lookup: a stadium.
                let (open, close) = if crate::schema::is_stack_ref(&n.rtype) {
                    ("[[", "]]")
                } else if n.existing {
                    ("([", "])")
                } else {
                    ("[", "]")
                };
                let _ = writeln!(
                    out,
                    "    {}{open}\"{}<br/>{}\"{close}{class}",
                    mermaid_id(&n.name),
                    mermaid_text(&n.name),
                    mermaid_text(&n.rtype)
                );
            }
            out.push_str("  end\n");
        }
        for (from, to, why) in self.edges() {
            let arrow = if why.attrs.is_empty() {
                "-.->".to_string()
            } else {
                format!("-->|\"{}\"|", mermaid_text(&why.attrs.join(", ")))
            };
            let _ = writeln!(out, "  {} {arrow} {}", mermaid_id(from), mermaid_id(to));
        }
        out
    }

    /// Nodes grouped by area, areas in a fixed order, nodes in file order; empty areas left
    /// out.
    fn areas(&self) -> Vec<(&'static Area, Vec<&Node>)> {
        AREAS
            .iter()
            .map(|a| {
                let nodes: Vec<&Node> = self
                    .graph
                    .node_weights()
                    .filter(|n| std::ptr::eq(area_of(&n.rtype), a))
                    .collect();
                (a, nodes)
            })
            .filter(|(_, nodes)| !nodes.is_empty())
            .collect()
    }

    fn neighbours(&self, name: &str, dir: petgraph::Direction) -> Vec<&str> {
        let Some(&ix) = self.index.get(name) else {
            return vec![];
        };
        let mut ns: Vec<NodeIndex> = self.graph.neighbors_directed(ix, dir).collect();
        ns.sort();
        ns.dedup();
        ns.into_iter()
            .map(|n| self.graph[n].name.as_str())
            .collect()
    }

    fn reachable(&self, name: &str, dir: petgraph::Direction) -> Vec<&str> {
        let Some(&start) = self.index.get(name) else {
            return vec![];
        };
        let mut seen: HashSet<NodeIndex> = HashSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for m in self.graph.neighbors_directed(n, dir) {
                if m != start && seen.insert(m) {
                    queue.push_back(m);
                }
            }
        }
        self.topo_order()
            .into_iter()
            .filter(|n| seen.contains(&self.index[*n]))
            .collect()
    }

    /// One diagnostic per strongly connected component with more than one resource: each
    /// is a knot of one or more cycles; the shortest cycle through its first resource in
    /// file order is named, so the message is short and stable.
    fn report_cycles(&mut self, stack: &Stack, diags: &mut Diagnostics) {
        let knots = self.knots();
        self.cyclic = !knots.is_empty();
        for knot in knots {
            let cycle = self.cycle_in(&knot);
            diags.push(self.cycle_diag(stack, &knot, &cycle));
        }
    }

    /// Strongly connected components (Tarjan) of more than one node, each sorted, ordered by
    /// their first node: every cycle lies inside exactly one of them.
    fn knots(&self) -> Vec<Vec<NodeIndex>> {
        let mut knots: Vec<Vec<NodeIndex>> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|mut scc| {
                scc.sort();
                scc
            })
            .collect();
        knots.sort();
        knots
    }

    /// The shortest cycle through the knot's first resource, following "depends on"
    /// (incoming edges): `[a, b, c]` means `a` depends on `b`, `b` on `c`, `c` on `a`.
    /// Breadth-first with neighbours in file order, so the same cycle is found every run.
    fn cycle_in(&self, knot: &[NodeIndex]) -> Vec<NodeIndex> {
        let inside: HashSet<NodeIndex> = knot.iter().copied().collect();
        let start = knot[0];
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let mut deps: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(n, Incoming)
                .filter(|m| inside.contains(m))
                .collect();
            deps.sort();
            deps.dedup();
            for m in deps {
                if m == start {
                    let mut path = vec![n];
                    let mut cur = n;
                    while let Some(&p) = parent.get(&cur) {
                        path.push(p);
                        cur = p;
                    }
                    path.reverse();
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                    e.insert(n);
                    queue.push_back(m);
                }
            }
        }
        // A strongly connected component of two or more nodes always has a cycle through
        // each of its nodes; naming the whole knot is the honest fallback.
        knot.to_vec()
    }

    fn cycle_diag(&self, stack: &Stack, knot: &[NodeIndex], cycle: &[NodeIndex]) -> Diag {
        let names: Vec<&str> = cycle.iter().map(|&n| self.graph[n].name.as_str()).collect();
        let chain = format!("{} -> {}", names.join(" -> "), names[0]);
        let mut labels: Vec<(Span, String)> = Vec::new();
        for (i, x) in names.iter().enumerate() {
            let y = names[(i + 1) % names.len()];
            labels.extend(sites(&stack.resources[*x], y));
        }
        labels.sort_by_key(|(s, _)| (s.start, s.end));
        labels.dedup_by_key(|(s, _)| *s);
        let mut d = Diag::error(
            "iac::graph::cycle",
            format!("dependency cycle `{chain}`: each resource needs the next one created first"),
        )
        .in_file(&stack.source);
        for (span, text) in labels {
            d = d.label(span, text);
        }
        let mut help = String::from(
            "remove one of the labelled references or `depends_on` entries to break the cycle; \
             when two resources really need each other's values, move the shared setting into \
             a resource of its own that both refer to",
        );
        let others: Vec<String> = knot
            .iter()
            .filter(|n| !cycle.contains(n))
            .map(|&n| format!("`{}`", self.graph[n].name))
            .collect();
        if !others.is_empty() {
            let _ = write!(
                help,
                "; {} also take part in cycles with these resources, so check them too",
                others.join(", ")
            );
        }
        d.help(help)
    }
}

/// Where `dependent` refers to `dependency`: each reference and each `depends_on` entry, with
/// a label text. Falls back to the resource's name when no site was recorded.
fn sites(dependent: &Resource, dependency: &str) -> Vec<(Span, String)> {
    let x = &dependent.name;
    let mut out: Vec<(Span, String)> = dependent
        .spans
        .refs
        .iter()
        .filter(|s| s.reference.resource == dependency)
        .map(|s| {
            (
                s.span,
                format!("`{x}` reads `{dependency}.{}`", s.reference.attr),
            )
        })
        .collect();
    for (d, span) in dependent.depends_on.iter().zip(&dependent.spans.depends_on) {
        if d == dependency {
            out.push((*span, format!("`{x}` depends on `{dependency}`")));
        }
    }
    if out.is_empty() {
        out.push((
            dependent.spans.name,
            format!("`{x}` depends on `{dependency}`"),
        ));
    }
    out
}

/// The resources `r` depends on, in order of appearance, with the attributes it reads from
/// each. References are taken from the property values (what the engine resolves) and from
/// the recorded reference sites, so no edge can be missed.
fn direct_dependencies(r: &Resource) -> IndexMap<&str, Dependency> {
    let mut acc: IndexMap<&str, (BTreeSet<&str>, bool)> = IndexMap::new();
    for site in &r.spans.refs {
        let e = acc.entry(site.reference.resource.as_str()).or_default();
        e.0.insert(site.reference.attr.as_str());
    }
    for v in r.props.values() {
        for reference in v.references() {
            let e = acc.entry(reference.resource.as_str()).or_default();
            e.0.insert(reference.attr.as_str());
        }
    }
    for d in &r.depends_on {
        acc.entry(d.as_str()).or_default().1 = true;
    }
    acc.into_iter()
        .map(|(name, (attrs, depends_on))| {
            (
                name,
                Dependency {
                    attrs: attrs.into_iter().map(str::to_string).collect(),
                    depends_on,
                },
            )
        })
        .collect()
}

/// A group of resource types drawn together.
struct Area {
    /// DOT cluster suffix.
    id: &'static str,
    /// Mermaid subgraph id: capitalised, so it can never clash with a resource name
    /// (`[a-z][a-z0-9_]*`).
    mermaid_id: &'static str,
    title: &'static str,
    types: &'static [&'static str],
}

/// The areas in drawing order; the last one (no types) catches every other type.
static AREAS: &[Area] = &[
    Area {
        id: "other_stacks",
        mermaid_id: "OtherStacks",
        title: "other stacks",
        types: &[crate::schema::STACK_REF],
    },
    Area {
        id: "network",
        mermaid_id: "Network",
        title: "network",
        types: &[
            "aws.vpc",
            "aws.subnet",
            "aws.internet_gateway",
            "aws.eip",
            "aws.nat_gateway",
            "aws.route_table",
            "aws.security_group",
        ],
    },
    Area {
        id: "dns",
        mermaid_id: "Dns",
        title: "DNS and certificates",
        types: &["aws.hosted_zone", "aws.certificate", "aws.dns_record"],
    },
    Area {
        id: "load_balancing",
        mermaid_id: "LoadBalancing",
        title: "load balancing",
        types: &["aws.load_balancer", "aws.target_group", "aws.listener"],
    },
    Area {
        id: "containers",
        mermaid_id: "Containers",
        title: "containers",
        types: &[
            "aws.ecr_repository",
            "aws.ecs_cluster",
            "aws.log_group",
            "aws.iam_role",
            "aws.task_definition",
            "aws.ecs_service",
        ],
    },
    Area {
        id: "other",
        mermaid_id: "Other",
        title: "other",
        types: &[],
    },
];

fn area_of(rtype: &str) -> &'static Area {
    AREAS
        .iter()
        .find(|a| a.types.contains(&rtype))
        .unwrap_or(&AREAS[AREAS.len() - 1])
}

/// A DOT quoted ID; a newline becomes DOT's `\n` line break.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside a Mermaid `"..."` label: quotes and angle brackets as entities.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// Mermaid words that cannot be node ids. Resource names are lowercase, so a capitalised id
/// never clashes with another resource.
const MERMAID_KEYWORDS: &[&str] = &[
    "end",
    "graph",
    "subgraph",
    "flowchart",
    "style",
    "class",
    "classdef",
    "click",
    "direction",
    "default",
    "linkstyle",
];

fn mermaid_id(name: &str) -> String {
    if MERMAID_KEYWORDS.contains(&name) {
        let mut cs = name.chars();
        cs.next()
            .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
            .unwrap_or_default()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap as Map;

    use super::*;
    use crate::model::{RefSite, ResourceSpans};
    use crate::value::{Reference, Value};
    use crate::SourceFile;

    /// A stack built by hand: `(name, type, refs as "res.attr", depends_on)`. Each reference
    /// becomes a property value and a reference site with a distinct made-up span.
    fn stack(resources: &[(&str, &str, &[&str], &[&str])]) -> Stack {
        let mut next = 0;
        let mut span = || {
            next += 2;
            Span::new(next, next + 1)
        };
        let mut out = IndexMap::new();
        for &(name, rtype, refs, deps) in resources {
            let mut spans = ResourceSpans {
                name: span(),
                ..Default::default()
            };
            let mut props = IndexMap::new();
            for (i, r) in refs.iter().enumerate() {
                let (resource, attr) = r.split_once('.').unwrap();
                let reference = Reference {
                    resource: resource.into(),
                    attr: attr.into(),
                };
                let path = format!("p{i}");
                spans.refs.push(RefSite {
                    reference: reference.clone(),
                    span: span(),
                    path: path.clone(),
                });
                props.insert(path, Value::Ref(reference));
            }
            spans.depends_on = deps.iter().map(|_| span()).collect();
            out.insert(
                name.to_string(),
                Resource {
                    name: name.into(),
                    schema: crate::schema::lookup(rtype).expect("known type"),
                    props,
                    depends_on: deps.iter().map(|d| d.to_string()).collect(),
                    protect: false,
                    ignore_changes: vec![],
                    existing: false,
                    lookup_id: None,
                    import: None,
                    defaulted: vec![],
                    spans,
                },
            );
        }
        Stack {
            source: SourceFile::new("test.yaml", ""),
            name: "test".into(),
            region: None,
            state: None,
            vars: IndexMap::new(),
            resources: out,
            outputs: IndexMap::new(),
            moved: Vec::new(),
            usage: Default::default(),
            spans: Map::new(),
        }
    }

    fn build(s: &Stack) -> (StackGraph, Diagnostics) {
        let mut d = Diagnostics::default();
        let g = StackGraph::build(s, &mut d);
        (g, d)
    }

    fn web() -> Stack {
        stack(&[
            (
                "svc",
                "aws.ecs_service",
                &["cluster.arn", "tg.arn"],
                &["https"],
            ),
            ("vpc", "aws.vpc", &[], &[]),
            ("cluster", "aws.ecs_cluster", &[], &[]),
            ("tg", "aws.target_group", &["vpc.id"], &[]),
            ("alb", "aws.load_balancer", &["a.id", "b.id"], &[]),
            ("a", "aws.subnet", &["vpc.id"], &[]),
            ("b", "aws.subnet", &["vpc.id", "vpc.cidr"], &[]),
            ("https", "aws.listener", &["alb.arn", "tg.arn"], &[]),
        ])
    }

    #[test]
    fn topological_order_puts_dependencies_first_ties_in_file_order() {
        let (g, d) = build(&web());
        assert!(d.0.is_empty());
        assert_eq!(
            g.topo_order(),
            ["vpc", "cluster", "tg", "a", "b", "alb", "https", "svc"]
        );
    }

    #[test]
    fn topological_order_is_deterministic() {
        let s = web();
        let first = build(&s).0.topo_order().join(",");
        for _ in 0..20 {
            assert_eq!(build(&s).0.topo_order().join(","), first);
        }
    }

    #[test]
    fn direct_and_transitive_queries() {
        let (g, _) = build(&web());
        assert_eq!(g.dependencies("svc"), ["cluster", "tg", "https"]);
        assert_eq!(g.dependents("vpc"), ["tg", "a", "b"]);
        assert_eq!(
            g.transitive_dependents("vpc"),
            ["tg", "a", "b", "alb", "https", "svc"]
        );
        assert_eq!(
            g.transitive_dependencies("https"),
            ["vpc", "tg", "a", "b", "alb"]
        );
        assert!(g.transitive_dependents("svc").is_empty());
        assert!(g.dependents("nope").is_empty());
        assert!(g.transitive_dependents("nope").is_empty());
    }

    #[test]
    fn edges_record_attributes_and_depends_on() {
        let (g, _) = build(&web());
        let b = g.dependency("b", "vpc").unwrap();
        assert_eq!(b.attrs, ["cidr", "id"]);
        assert!(!b.depends_on);
        let svc = g.dependency("svc", "https").unwrap();
        assert!(svc.attrs.is_empty());
        assert!(svc.depends_on);
        assert!(g.dependency("vpc", "b").is_none());
        assert_eq!(g.edges().len(), 10);
    }

    #[test]
    fn unknown_and_self_references_make_no_edge() {
        let s = stack(&[
            ("vpc", "aws.vpc", &["vpc.cidr"], &[]),
            ("a", "aws.subnet", &["ghost.id"], &["nobody"]),
        ]);
        let (g, d) = build(&s);
        assert!(d.0.is_empty());
        assert!(g.edges().is_empty());
        assert!(!g.is_cyclic());
        assert_eq!(g.topo_order(), ["vpc", "a"]);
    }

    #[test]
    fn cycle_of_three_is_named_whole_with_every_site_labelled() {
        let s = stack(&[
            ("vpc", "aws.vpc", &[], &[]),
            ("a", "aws.security_group", &["b.id"], &[]),
            ("b", "aws.security_group", &["c.id"], &[]),
            ("c", "aws.security_group", &["vpc.id"], &["a"]),
        ]);
        let (g, d) = build(&s);
        assert!(g.is_cyclic());
        assert_eq!(d.0.len(), 1);
        let diag = &d.0[0];
        assert_eq!(diag.code, "iac::graph::cycle");
        assert!(
            diag.message.contains("`a -> b -> c -> a`"),
            "{}",
            diag.message
        );
        let texts: Vec<&str> = diag
            .labels
            .iter()
            .map(|l| l.text.as_deref().unwrap())
            .collect();
        assert_eq!(
            texts,
            ["`a` reads `b.id`", "`b` reads `c.id`", "`c` depends on `a`"]
        );
        assert!(diag.help.as_deref().unwrap().contains("break the cycle"));
        // Ordering still covers every resource.
        assert_eq!(g.topo_order().len(), 4);
    }

    #[test]
    fn each_knot_is_reported_once_with_its_shortest_cycle() {
        // Two separate knots; the first holds two cycles (a<->b, a->b->c->a).
        let s = stack(&[
            ("a", "aws.security_group", &["b.id"], &[]),
            ("b", "aws.security_group", &["a.id", "c.id"], &[]),
            ("c", "aws.security_group", &["a.id"], &[]),
            ("x", "aws.security_group", &["y.id"], &[]),
            ("y", "aws.security_group", &["x.id"], &[]),
        ]);
        let (_, d) = build(&s);
        let msgs: Vec<&str> = d.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("`a -> b -> a`"), "{}", msgs[0]);
        assert!(d.0[0].help.as_deref().unwrap().contains("`c`"));
        assert!(msgs[1].contains("`x -> y -> x`"), "{}", msgs[1]);
    }

    #[test]
    fn drawings_are_stable_and_styled() {
        let (g, _) = build(&web());
        let dot = g.to_dot();
        assert_eq!(dot, build(&web()).0.to_dot());
        assert!(dot.contains("\"vpc\" [label=\"vpc\\naws.vpc\"];"), "{dot}");
        assert!(
            dot.contains("\"vpc\" -> \"b\" [label=\"cidr, id\"];"),
            "{dot}"
        );
        assert!(
            dot.contains("\"https\" -> \"svc\" [style=dashed];"),
            "{dot}"
        );
        assert!(dot.contains("subgraph \"cluster_network\""), "{dot}");
        let mm = g.to_mermaid();
        assert!(mm.starts_with("flowchart LR\n"), "{mm}");
        assert!(mm.contains("vpc[\"vpc<br/>aws.vpc\"]"), "{mm}");
        assert!(mm.contains("  vpc -->|\"cidr, id\"| b\n"), "{mm}");
        assert!(mm.contains("  https -.-> svc\n"), "{mm}");
    }

    fn node(name: &str) -> Node {
        Node {
            name: name.into(),
            rtype: "aws.vpc".into(),
            existing: false,
        }
    }

    fn edge(from: &str, to: &str, attr: &str) -> (String, String, Dependency) {
        let why = Dependency {
            attrs: vec![attr.into()],
            depends_on: false,
        };
        (from.into(), to.into(), why)
    }

    #[test]
    fn graphs_from_parts_merge_edges_and_share_the_queries() {
        let g = StackGraph::from_parts(
            "plan",
            ["web", "db", "net"].map(node),
            [
                edge("net", "db", "id"),
                edge("db", "web", "port"),
                edge("db", "web", "host"),
                edge("net", "web", "id"),
            ],
        )
        .unwrap();
        assert_eq!(g.topo_order(), ["net", "db", "web"]);
        assert_eq!(g.dependency("web", "db").unwrap().attrs, ["host", "port"]);
        assert_eq!(g.transitive_dependents("net"), ["db", "web"]);
        assert_eq!(g.edges().len(), 3);
    }

    #[test]
    fn graphs_from_parts_refuse_bad_input() {
        let err = StackGraph::from_parts(
            "plan",
            ["a", "b", "c"].map(node),
            [
                edge("a", "b", "id"),
                edge("b", "c", "id"),
                edge("c", "a", "id"),
            ],
        )
        .unwrap_err();
        // `a` depends on `c` (edge c -> a), `c` on `b`, `b` on `a`.
        assert_eq!(err.to_string(), "dependency cycle `a -> c -> b -> a`");
        let err = StackGraph::from_parts("plan", ["a"].map(node), [edge("a", "zz", "id")]);
        assert_eq!(err.unwrap_err(), GraphError::UnknownNode("zz".into()));
        let err = StackGraph::from_parts("plan", ["a", "a"].map(node), []);
        assert_eq!(err.unwrap_err(), GraphError::DuplicateNode("a".into()));
    }

    #[test]
    fn mermaid_keywords_are_not_used_as_ids() {
        let s = stack(&[
            ("end", "aws.vpc", &[], &[]),
            ("a", "aws.subnet", &["end.id"], &[]),
        ]);
        let mm = build(&s).0.to_mermaid();
        assert!(mm.contains("    End[\"end<br/>aws.vpc\"]"), "{mm}");
        assert!(mm.contains("  End -->|\"id\"| a"), "{mm}");
    }
}
