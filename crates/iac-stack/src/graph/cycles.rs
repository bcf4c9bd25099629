//! Dependency cycles: one diagnostic per knot (strongly connected component), naming its
//! shortest cycle and pointing at the references that form it.

use super::*;

impl StackGraph {
    /// One diagnostic per strongly connected component with more than one resource: each
    /// is a knot of one or more cycles; the shortest cycle through its first resource in
    /// file order is named, so the message is short and stable.
    pub(super) fn report_cycles(&mut self, stack: &Stack, diags: &mut Diagnostics) {
        let knots = self.knots();
        self.cyclic = !knots.is_empty();
        for knot in knots {
            let cycle = self.cycle_in(&knot);
            diags.push(self.cycle_diag(stack, &knot, &cycle));
        }
    }

    /// Strongly connected components (Tarjan) of more than one node, each sorted, ordered by
    /// their first node: every cycle lies inside exactly one of them.
    pub(super) fn knots(&self) -> Vec<Vec<NodeIndex>> {
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
    pub(super) fn cycle_in(&self, knot: &[NodeIndex]) -> Vec<NodeIndex> {
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

    pub(super) fn cycle_diag(
        &self,
        stack: &Stack,
        knot: &[NodeIndex],
        cycle: &[NodeIndex],
    ) -> Diag {
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
        // ECS on EC2: the template names the cluster its instances join, and the cluster
        // lists the provider over the group that launches the template.
        let joins_cluster = cycle.iter().any(|&n| {
            let r = &stack.resources[self.graph[n].name.as_str()];
            r.schema.name == "aws.launch_template"
                && r.spans.refs.iter().any(|s| {
                    stack
                        .resources
                        .get(&s.reference.resource)
                        .is_some_and(|t| t.schema.name == "aws.ecs_cluster")
                        && names.contains(&s.reference.resource.as_str())
                })
        });
        if joins_cluster {
            help.push_str(
                "; a launch template's `cluster` is the name of the cluster its instances join: \
                 write that name (a var, used for the cluster's `name` as well) instead of a \
                 reference to the cluster (docs/ec2-capacity.md)",
            );
        }
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
    for i in dependent
        .implied
        .iter()
        .filter(|i| i.dependency == dependency)
    {
        out.push((
            i.span,
            format!("`{x}` waits for `{dependency}` (implied: {})", i.reason),
        ));
    }
    if out.is_empty() {
        out.push((
            dependent.spans.name,
            format!("`{x}` depends on `{dependency}`"),
        ));
    }
    out
}
