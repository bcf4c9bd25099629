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
    /// Neither reads nor names the other, but AWS needs this order ([`crate::implied`]):
    /// why. `None` for the edges the stack states.
    pub implied: Option<String>,
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
                    w.implied = w.implied.take().or(why.implied);
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
}

/// The resources `r` depends on, in order of appearance, with the attributes it reads from
/// each. References are taken from the property values (what the engine resolves) and from
/// the recorded reference sites, so no edge can be missed.
fn direct_dependencies(r: &Resource) -> IndexMap<&str, Dependency> {
    let mut acc: IndexMap<&str, (BTreeSet<&str>, bool, Option<String>)> = IndexMap::new();
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
    for i in &r.implied {
        acc.entry(i.dependency.as_str()).or_default().2 = Some(i.reason.clone());
    }
    acc.into_iter()
        .map(|(name, (attrs, depends_on, implied))| {
            (
                name,
                Dependency {
                    attrs: attrs.into_iter().map(str::to_string).collect(),
                    depends_on,
                    implied,
                },
            )
        })
        .collect()
}

mod cycles;
mod draw;
#[cfg(test)]
mod tests;
