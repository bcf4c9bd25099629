//! Byte spans into the stack file, and the source they point into.

use std::sync::Arc;

/// A byte range in the stack file's text. Kept on every node so a diagnostic can point at it.
///
/// A value copied by a YAML alias (`*base`, or a merge key `<<: *base`) keeps the span where
/// it is written, under its anchor, and records in `via` the alias that copied it there: a
/// diagnostic labelling such a span shows both places (see [`crate::Diag::label`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// The alias this value came through, when it did; the outermost one when aliases nest.
    pub via: Option<Via>,
}

/// The byte range of the alias (`*name`) a value was copied through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Via {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end,
            via: None,
        }
    }
    /// The same place, used through the alias written at `alias`.
    pub fn through(self, alias: Span) -> Self {
        Span {
            via: Some(Via {
                start: alias.start,
                end: alias.end,
            }),
            ..self
        }
    }
    /// A part of this span (`start..end`, bytes), used through the same alias.
    pub fn within(self, start: usize, end: usize) -> Self {
        Span {
            start,
            end,
            via: self.via,
        }
    }
    /// The span of the alias this value came through, if any.
    pub fn alias(&self) -> Option<Span> {
        self.via.map(|v| Span::new(v.start, v.end))
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new(s.start.into(), s.len())
    }
}

/// The text of one stack (or var) file and its display name, shared by every diagnostic
/// that points into it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset, for JSON diagnostics.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                inner.line(),
                inner.column(),
                inner.line_count(),
            )
            .with_language("yaml"),
        ))
    }
}
