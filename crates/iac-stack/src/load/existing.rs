//! The `existing:` key of a resource: a read-only lookup of an object that already exists.
//!
//! ```yaml
//! vpc:
//!   type: aws.vpc
//!   existing: true            # found by its identifying properties (schema::lookup_by)
//!   tags: { Name: shared }
//! zone:
//!   type: aws.hosted_zone
//!   existing: { id: Z0123456789ABCDEFGHIJ }   # found by the id the console shows
//! ```
//!
//! Checked here, from the text alone: the value is a boolean or a map holding only `id`;
//! the id is written out and has one of the type's forms (the same as `import:` takes);
//! `existing: true` is on a type that can be found by its properties, and sets them.

use indexmap::IndexMap;

use crate::diag::Diag;
use crate::schema::{self, TypeSchema};
use crate::value::Value;
use crate::yaml::{Node, NodeKind};
use crate::Span;

use super::{backticked, Loader};

impl Loader<'_> {
    /// The value of `existing:` of resource `name`: whether it is a lookup, and the id to
    /// look it up by when one is given.
    pub(super) fn existing_meta(
        &mut self,
        node: &Node,
        name: &str,
        schema: Option<&'static TypeSchema>,
    ) -> (bool, Option<String>) {
        let entries = match &node.kind {
            NodeKind::Bool(b) => return (*b, None),
            NodeKind::Map(entries) => entries,
            _ => {
                self.invalid_existing(
                    node.span,
                    format!(
                        "expected `true`, `false` or `{{ id: ID }}` for `existing` of `{name}`, found {}",
                        node.describe()
                    ),
                );
                return (false, None);
            }
        };
        let mut id = None;
        for (k, v) in entries {
            if k.as_str() == Some("id") {
                id = Some(v);
            } else {
                self.invalid_existing(
                    k.span,
                    match k.as_str() {
                        Some(key) => {
                            format!("`existing` of `{name}` takes only `id`, found `{key}`")
                        }
                        None => format!(
                            "`existing` of `{name}` takes only `id`, found {}",
                            k.describe()
                        ),
                    },
                );
            }
        }
        let Some(id) = id else {
            self.invalid_existing(
                node.span,
                format!("`existing` of `{name}` is a map without `id`"),
            );
            return (true, None);
        };
        let Some(text) = id.as_str().filter(|s| !s.contains("${")) else {
            self.invalid_existing(
                id.span,
                format!(
                    "the `existing` id of `{name}` must be a string written out, found {}",
                    id.describe()
                ),
            );
            return (true, None);
        };
        if !self.console_id_fits("iac::existing::bad_id", id.span, schema, text) {
            return (true, None);
        }
        (true, Some(text.to_string()))
    }

    fn invalid_existing(&mut self, span: Span, message: String) {
        self.error(
            Diag::error("iac::existing::invalid", message)
                .label(span, "not a lookup")
                .help("write `existing: true` to find the object by its identifying properties, or `existing: { id: ID }` with the id the AWS console shows"),
        );
    }

    /// `existing: true` (at `span`) on resource `name`: the type must be one a lookup can
    /// find by its properties, and `props` must set them. (Every `aws.*` type has an id
    /// form; a type with neither a lookup nor an id form is not checked.)
    pub(super) fn check_lookup(
        &mut self,
        name: &str,
        schema: &TypeSchema,
        props: &IndexMap<String, Value>,
        span: Span,
    ) {
        let Some(by) = schema::lookup_by(schema.name) else {
            // A type with neither table entry (one a test defines) has nothing to check.
            let Some(id) = schema::import_id(schema.name) else {
                return;
            };
            let example = id.example;
            self.error(
                Diag::error(
                    "iac::existing::no_lookup",
                    format!(
                        "`{name}` is `existing: true`, but no property singles out an existing `{}`",
                        schema.name
                    ),
                )
                .label(span, "nothing to look it up by")
                .help(format!("name the object by its id: `existing: {{ id: {example} }}`")),
            );
            return;
        };
        if schema::identifies(by, props) {
            return;
        }
        let (how, which) = if by.all.is_empty() {
            ("at least one of", by.any)
        } else {
            ("all of", by.all)
        };
        self.error(
            Diag::error(
                "iac::existing::unidentified",
                format!(
                    "`{name}` is `existing: true` but does not set what finds the `{}`",
                    schema.name
                ),
            )
            .label(span, "looked up by its properties")
            .help(format!(
                "set {how} {} (a lookup of `{}` finds {})",
                backticked(which.iter().copied()),
                schema.name,
                by.doc
            )),
        );
    }
}
