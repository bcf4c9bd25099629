//! A web service's `overrides:`: fields of its children replaced or added, each keeping the
//! override's span, and the errors for a child or a field that cannot be overridden.

use super::*;

impl Loader<'_> {
    /// `overrides: { CHILD: { FIELD: VALUE } }`: each value replaces (or adds) the child's
    /// field, keeping the override's spans.
    pub(super) fn apply_overrides(
        &mut self,
        p: &Parent<'_>,
        overrides: &Node,
        children: &mut [(String, Node, Node)],
    ) {
        let Some(entries) = self.map_of(
            overrides,
            "iac::value::wrong_type",
            &format!(
                "`overrides` of `{}` must be a map CHILD -> {{ FIELD: VALUE }}",
                p.name
            ),
            "e.g. `overrides: { alb: { idle_timeout: 120 } }`",
        ) else {
            return;
        };
        for (k, fields) in entries {
            let child = k.key_text().unwrap_or_default();
            let Some(i) = children.iter().position(|(c, _, _)| *c == child) else {
                let made: Vec<&str> = children.iter().map(|(c, _, _)| c.as_str()).collect();
                let not_here = p.schema.children.iter().find(|c| c.name == child);
                let help = match not_here {
                    Some(c) => format!(
                        "`{child}` is only created {}; this `{}` creates {}",
                        c.when.describe(),
                        p.schema.name,
                        backticked(made.iter().copied())
                    ),
                    None => suggest(&child, made.iter().copied(), || {
                        format!(
                            "this `{}` creates {}",
                            p.schema.name,
                            backticked(made.iter().copied())
                        )
                    }),
                };
                self.error(
                    Diag::error(
                        "iac::web_service::unknown_child",
                        format!("`{}` has no child `{child}` to override", p.name),
                    )
                    .label(k.span, "no such child")
                    .help(help),
                );
                continue;
            };
            let Some(sets) = self.map_of(
                fields,
                "iac::value::wrong_type",
                &format!(
                    "the override of `{}.{child}` must be a map of its fields",
                    p.name
                ),
                "e.g. `alb: { idle_timeout: 120 }`",
            ) else {
                continue;
            };
            let NodeKind::Map(body) = &mut children[i].2.kind else {
                continue;
            };
            for (fk, fv) in sets {
                let name = fk.key_text();
                if name.as_deref() == Some("type") {
                    self.error(
                        Diag::error(
                            "iac::web_service::override_type",
                            format!("the type of `{}.{child}` cannot be overridden", p.name),
                        )
                        .label(fk.span, "fixed by the web service")
                        .help("declare a resource of your own beside the web service instead"),
                    );
                    continue;
                }
                match body.iter_mut().find(|(bk, _)| bk.key_text() == name) {
                    Some(slot) => *slot = (fk.clone(), fv.clone()),
                    None => body.push((fk.clone(), fv.clone())),
                }
            }
        }
    }
}
