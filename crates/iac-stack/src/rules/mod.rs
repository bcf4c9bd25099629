//! Checks that need the whole stack: the AWS rules that the API would only reject at apply
//! time, network consistency, and warnings about unsafe stacks.
//!
//! Every rule reads values that are known before apply: literals, and references that resolve
//! to another resource's literal property (`${vpc.cidr}` when the VPC's `cidr` is written out,
//! the `az` of a subnet that `${subnet.id}` points at). Where a value is only known after
//! apply, the rule is skipped: a false error would block a correct stack, which is worse than
//! letting AWS reject a wrong one. Each rule has a stable code documented in docs/rules.md.
//!
//! One file per area; each exposes `check(&Ctx, &mut Diagnostics)`.

mod capacity;
mod consistency;
mod containers;
mod cost;
mod dns;
mod ec2;
mod ecs;
mod elb;
mod iam;
mod limits;
mod listener_rules;
mod logs;
mod naming;
mod network;
mod references;
mod scaling;
mod secrets;
mod security;

#[cfg(test)]
mod testkit;

use std::collections::HashMap;

use crate::diag::Diag;
use crate::model::Resource;
use crate::value::Value;
use crate::{Diagnostics, Span, Stack, StackGraph};

/// Run every rule, pushing errors and warnings into `diags`.
///
/// Called only when the loader and the graph found no errors, so every reference names an
/// existing resource and attribute and there is no cycle. The graph itself is not needed: the
/// orderings AWS needs are added by the loader (`crate::implied`), not checked here.
pub fn check(stack: &Stack, _graph: &StackGraph, diags: &mut Diagnostics) {
    let cx = Ctx::new(stack);
    references::check(&cx, diags);
    network::check(&cx, diags);
    security::check(&cx, diags);
    elb::check(&cx, diags);
    listener_rules::check(&cx, diags);
    ecs::check(&cx, diags);
    ec2::check(&cx, diags);
    containers::check(&cx, diags);
    secrets::check(&cx, diags);
    logs::check(&cx, diags);
    dns::check(&cx, diags);
    naming::check(&cx, diags);
    consistency::check(&cx, diags);
    limits::check(&cx, diags);
    scaling::check(&cx, diags);
    iam::check(&cx, diags);
    capacity::check(&cx, diags);
}

/// The warnings about money spent for nothing (`iac::cost::*`, rules/cost.rs), after
/// [`check`]. A pass of their own so that the other rules' tests, whose small stacks leave
/// out listeners and retention periods, see only their own findings.
pub fn check_cost(stack: &Stack, diags: &mut Diagnostics) {
    cost::check(&Ctx::new(stack), diags);
}

// Counts the resources the rules' lookups hand out, in tests: the work that must stay
// linear in the size of the stack.
#[cfg(test)]
thread_local! {
    static VISITED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn visited() {
    #[cfg(test)]
    VISITED.with(|c| c.set(c.get() + 1));
}

/// How deep a chain of references (`${a.x}` whose `x` is `${b.y}`...) is followed. Chains in
/// real stacks are one or two long; the limit only guards against surprises.
const MAX_REF_DEPTH: usize = 8;

/// What every rule needs: the stack, and the ways to read values through references.
///
/// Rules look resources up by type and listeners by the target group they forward to
/// through indexes built once here, never by scanning the stack inside a loop over it: the
/// rules stay linear in the number of resources (10,000 in one stack).
pub(crate) struct Ctx<'a> {
    pub stack: &'a Stack,
    by_type: HashMap<&'static str, Vec<&'a Resource>>,
    /// Listeners (and listener rules) by the resource their `forward` references (a target
    /// group's name).
    forwarding_to: HashMap<&'a str, Vec<&'a Resource>>,
}

impl<'a> Ctx<'a> {
    pub fn new(stack: &'a Stack) -> Ctx<'a> {
        let mut by_type: HashMap<&'static str, Vec<&'a Resource>> = HashMap::new();
        let mut forwarding_to: HashMap<&'a str, Vec<&'a Resource>> = HashMap::new();
        for r in stack.resources.values() {
            by_type.entry(r.schema.name).or_default().push(r);
            if matches!(r.schema.name, "aws.listener" | "aws.listener_rule") {
                if let Some(f) = r.prop("forward") {
                    for rf in f.references() {
                        forwarding_to
                            .entry(rf.resource.as_str())
                            .or_default()
                            .push(r);
                    }
                }
            }
        }
        Ctx {
            stack,
            by_type,
            forwarding_to,
        }
    }

    /// Resources of one type (e.g. `aws.listener`), in file order.
    pub fn of_type(&self, rtype: &str) -> impl Iterator<Item = &'a Resource> + '_ {
        self.by_type
            .get(rtype)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .inspect(|_| visited())
    }

    /// The listeners whose `forward` references the resource `target` (a target group),
    /// in file order.
    pub fn listeners_forwarding_to(&self, target: &str) -> &[&'a Resource] {
        let found = self
            .forwarding_to
            .get(target)
            .map(Vec::as_slice)
            .unwrap_or_default();
        found.iter().for_each(|_| visited());
        found
    }

    /// The resource a whole-value reference points at, when it is of type `rtype`
    /// (`${web_tg.arn}` -> the `web_tg` resource for `aws.target_group`).
    pub fn target(&self, v: &Value, rtype: &str) -> Option<&'a Resource> {
        match v {
            Value::Ref(r) => self
                .stack
                .resources
                .get(&r.resource)
                .filter(|t| t.schema.name == rtype),
            _ => None,
        }
    }

    /// A value known before apply: the value itself when it holds no reference, or, for a
    /// whole-value reference `${NAME.ATTR}`, NAME's property called ATTR when that is known
    /// (the `az` attribute of a subnet is its `az` property). `None` when only apply knows.
    pub fn known(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for _ in 0..MAX_REF_DEPTH {
            match cur {
                Value::Ref(r) => {
                    let target = self.stack.resources.get(&r.resource)?;
                    cur = target.prop(&r.attr)?;
                }
                other if other.is_known() => return Some(other),
                _ => return None,
            }
        }
        None
    }

    /// A known string (see [`Ctx::known`]).
    pub fn known_str(&self, v: &'a Value) -> Option<&'a str> {
        self.known(v).and_then(Value::as_str)
    }

    /// A known integer; numbers written as strings (`cpu: "256"`) count too, as AWS reads
    /// them the same way.
    pub fn known_int(&self, v: &'a Value) -> Option<i64> {
        match self.known(v)? {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// An error located in the stack file.
    pub fn error(&self, code: &'static str, message: impl Into<String>) -> Diag {
        Diag::error(code, message).in_file(&self.stack.source)
    }

    /// A warning located in the stack file.
    pub fn warning(&self, code: &'static str, message: impl Into<String>) -> Diag {
        Diag::warning(code, message).in_file(&self.stack.source)
    }
}

/// The value at `path` unless it is absent or `null`: "is this property set".
pub(crate) fn set<'a>(r: &'a Resource, path: &str) -> Option<&'a Value> {
    r.at_path(path).filter(|v| !matches!(v, Value::Null))
}

/// True when the user wrote the key at `path` (a default filled in by the loader does not
/// count). Falls back to "set" when the loader kept no key span for the path.
pub(crate) fn written(r: &Resource, path: &str) -> bool {
    r.spans.keys.contains_key(path) || (set(r, path).is_some() && !has_default(r, path))
}

/// Whether the schema gives the property at `path` a default (`deployment.max_percent`,
/// `containers[0].essential`), so the loader may have filled it in.
fn has_default(r: &Resource, path: &str) -> bool {
    use crate::schema::{Kind, Prop};
    let mut props: &[Prop] = r.schema.props;
    let mut found: Option<&Prop> = None;
    for seg in path.split('.') {
        let key = seg.split('[').next().unwrap_or(seg);
        let Some(p) = props.iter().find(|p| p.name == key) else {
            return false;
        };
        found = Some(p);
        props = match &p.kind {
            Kind::Object(fields) => fields,
            Kind::ListOf(Kind::Object(fields)) => fields,
            // A listener rule's `forward`: the fields of its object form.
            Kind::OneOf(alts) => alts
                .iter()
                .find_map(|k| match k {
                    Kind::Object(fields) => Some(*fields),
                    _ => None,
                })
                .unwrap_or(&[]),
            _ => &[],
        };
    }
    found.is_some_and(|p| p.default.is_some())
}

/// The span of the key at `path` (`certificate:`), else of its value.
pub(crate) fn key_span(r: &Resource, path: &str) -> Span {
    r.spans
        .keys
        .get(path)
        .copied()
        .unwrap_or_else(|| r.span_of(path))
}

/// The elements of a list property with their paths (`subnets[0]`, `subnets[1]`...).
pub(crate) fn items<'a>(r: &'a Resource, path: &str) -> Vec<(String, &'a Value)> {
    set(r, path)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect()
        })
        .unwrap_or_default()
}

/// The closest candidate to `name` for a "did you mean", if one is close enough.
pub(crate) fn did_you_mean<'s>(name: &str, candidates: &[&'s str]) -> Option<&'s str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `a`, `b` and `c` for messages.
pub(crate) fn list_words<T: std::fmt::Display>(items: &[T]) -> String {
    join_words(items, "and")
}

/// `a`, `b` or `c` for help lines offering a choice.
pub(crate) fn list_or<T: std::fmt::Display>(items: &[T]) -> String {
    join_words(items, "or")
}

fn join_words<T: std::fmt::Display>(items: &[T], conj: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conj} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod scale_tests {
    use super::VISITED;

    /// A stack of `n` services, each behind its own target group and listener.
    fn services(n: usize) -> String {
        let mut y = String::from(
            "stack: many\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n\
             \x20 a:\n    type: aws.subnet\n    vpc: ${vpc.id}\n    cidr: 10.0.1.0/24\n    az: us-east-1a\n\
             \x20 b:\n    type: aws.subnet\n    vpc: ${vpc.id}\n    cidr: 10.0.2.0/24\n    az: us-east-1b\n\
             \x20 alb:\n    type: aws.load_balancer\n    subnets: [\"${a.id}\", \"${b.id}\"]\n\
             \x20 cluster:\n    type: aws.ecs_cluster\n\
             \x20 task:\n    type: aws.task_definition\n    cpu: 256\n    memory: 512\n    containers:\n      - name: web\n        image: nginx\n        port: 80\n",
        );
        for i in 0..n {
            y.push_str(&format!(
                "  tg{i}:\n    type: aws.target_group\n    vpc: ${{vpc.id}}\n    port: 80\n    protocol: HTTP\n\
                 \x20 l{i}:\n    type: aws.listener\n    load_balancer: ${{alb.arn}}\n    port: {}\n    protocol: HTTP\n    forward: ${{tg{i}.arn}}\n\
                 \x20 svc{i}:\n    type: aws.ecs_service\n    depends_on: [l{i}]\n    cluster: ${{cluster.arn}}\n    task_definition: ${{task.arn}}\n    desired_count: 2\n    subnets: [\"${{a.id}}\"]\n    load_balancer: {{target_group: \"${{tg{i}.arn}}\", container: web, port: 80}}\n",
                1000 + i
            ));
        }
        y
    }

    #[test]
    fn the_rules_visit_each_resource_a_bounded_number_of_times() {
        // Every rule that pairs resources (a service and the listener that forwards to its
        // target group) looks the other up in an index: the resources handed out grow with
        // the stack, not with its square.
        let mut per_resource = Vec::new();
        for n in [50, 500] {
            let y = services(n);
            VISITED.with(|c| c.set(0));
            let loaded = crate::load_str("many.yaml", &y, &crate::LoadOptions::default());
            assert!(loaded.is_ok(), "{:?}", loaded.err());
            let work = VISITED.with(std::cell::Cell::get);
            per_resource.push(work as f64 / (3 * n) as f64);
        }
        assert!(
            per_resource[1] <= per_resource[0] * 1.2,
            "work per resource grew with the stack: {per_resource:?}"
        );
    }
}
