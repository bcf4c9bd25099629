//! The graph drawn: Graphviz DOT and Mermaid, resources grouped by area (network, load
//! balancing, ...), the same text on every run so that it can be committed and diffed.

use super::*;

impl StackGraph {
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
        for (parent, areas) in self.sections() {
            // A web service's children: one solid box named after it, its areas inside.
            let pad = if let Some(p) = parent {
                let _ = writeln!(
                    out,
                    "\n  subgraph {} {{",
                    dot_quote(&format!("cluster_{p}"))
                );
                let _ = writeln!(
                    out,
                    "    label={};",
                    dot_quote(&format!("{p} (aws.web_service)"))
                );
                out.push_str("    style=rounded;\n    color=gray20;\n");
                "  "
            } else {
                ""
            };
            for (area, nodes) in areas {
                let cluster = match parent {
                    Some(p) => format!("cluster_{p}_{}", area.id),
                    None => format!("cluster_{}", area.id),
                };
                let _ = writeln!(out, "\n{pad}  subgraph {} {{", dot_quote(&cluster));
                let _ = writeln!(out, "{pad}    label={};", dot_quote(area.title));
                let _ = writeln!(out, "{pad}    style=dashed;\n{pad}    color=gray60;");
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
                        "{pad}    {} [label={}{style}];",
                        dot_quote(&n.name),
                        dot_quote(&format!("{}\n{}", n.name, n.rtype)),
                    );
                }
                let _ = writeln!(out, "{pad}  }}");
            }
            if parent.is_some() {
                out.push_str("  }\n");
            }
        }
        let edges = self.edges();
        if !edges.is_empty() {
            out.push('\n');
        }
        for (from, to, why) in edges {
            let attrs = if let Some(reason) = &why.implied {
                format!(
                    "style=dashed, color=gray40, label={}",
                    dot_quote(&format!("implied: {reason}"))
                )
            } else if why.attrs.is_empty() {
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
        for (parent, areas) in self.sections() {
            // Mermaid subgraph ids: `Web_web`, capitalised like the areas' (never a
            // resource name), the areas inside it `Web_web_Network`.
            let outer = parent.map(|p| format!("Web_{p}"));
            if let (Some(p), Some(id)) = (parent, &outer) {
                let _ = writeln!(out, "  subgraph {id}[\"{p} (aws.web_service)\"]");
            }
            for (area, nodes) in areas {
                let id = match &outer {
                    Some(o) => format!("{o}_{}", area.mermaid_id),
                    None => area.mermaid_id.to_string(),
                };
                let _ = writeln!(out, "  subgraph {id}[\"{}\"]", area.title);
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
            if parent.is_some() {
                out.push_str("  end\n");
            }
        }
        for (from, to, why) in self.edges() {
            let arrow = if let Some(reason) = &why.implied {
                format!("-.->|\"implied: {}\"|", mermaid_text(reason))
            } else if why.attrs.is_empty() {
                "-.->".to_string()
            } else {
                format!("-->|\"{}\"|", mermaid_text(&why.attrs.join(", ")))
            };
            let _ = writeln!(out, "  {} {arrow} {}", mermaid_id(from), mermaid_id(to));
        }
        out
    }

    /// The resources of the file itself, then each web service's children (`web.alb`:
    /// parent `web`), in file order; within each, nodes grouped by area.
    #[allow(clippy::type_complexity)]
    fn sections(&self) -> Vec<(Option<&str>, Vec<(&'static Area, Vec<&Node>)>)> {
        let mut parents: Vec<Option<&str>> = vec![None];
        let mut by_parent: HashMap<Option<&str>, Vec<&Node>> = HashMap::new();
        for n in self.graph.node_weights() {
            let parent = crate::child_name(&n.name).map(|(p, _)| p);
            let group = by_parent.entry(parent).or_default();
            if group.is_empty() && parent.is_some() {
                parents.push(parent);
            }
            group.push(n);
        }
        parents
            .into_iter()
            .filter_map(|p| Some((p, areas(by_parent.remove(&p)?))))
            .collect()
    }
}

/// Nodes grouped by area, areas in a fixed order, nodes in file order; empty areas left
/// out.
fn areas(nodes: Vec<&Node>) -> Vec<(&'static Area, Vec<&Node>)> {
    AREAS
        .iter()
        .map(|a| {
            let in_area: Vec<&Node> = nodes
                .iter()
                .copied()
                .filter(|n| std::ptr::eq(area_of(&n.rtype), a))
                .collect();
            (a, in_area)
        })
        .filter(|(_, nodes)| !nodes.is_empty())
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
        types: &[
            "aws.hosted_zone",
            "aws.certificate",
            "aws.dns_record",
            "aws.service_discovery_namespace",
        ],
    },
    Area {
        id: "load_balancing",
        mermaid_id: "LoadBalancing",
        title: "load balancing",
        types: &[
            "aws.load_balancer",
            "aws.target_group",
            "aws.listener",
            "aws.listener_rule",
        ],
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
        id: "ec2_capacity",
        mermaid_id: "Ec2Capacity",
        title: "EC2 capacity",
        types: &[
            "aws.instance_profile",
            "aws.launch_template",
            "aws.autoscaling_group",
            "aws.capacity_provider",
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

/// A child `web.alb` is `web-alb`: no resource name has a dash, so it stays unique.
fn mermaid_id(name: &str) -> String {
    if name.contains('.') {
        name.replace('.', "-")
    } else if MERMAID_KEYWORDS.contains(&name) {
        let mut cs = name.chars();
        cs.next()
            .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
            .unwrap_or_default()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod area_tests {
    #[test]
    fn listener_rules_are_drawn_with_their_listeners() {
        assert_eq!(super::area_of("aws.listener_rule").id, "load_balancing");
        assert_eq!(super::area_of("aws.listener").id, "load_balancing");
    }
}
