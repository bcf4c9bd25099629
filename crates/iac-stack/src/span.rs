//! Byte spans into the stack file, and the source they point into.

use std::sync::{Arc, OnceLock};

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
///
/// It keeps an index of where each line starts, built once on the first diagnostic that
/// needs it, so that placing a diagnostic costs a binary search and the lines shown, not a
/// scan of the file from its start: 2,500 warnings in a 10,000-resource file render in
/// linear time (see [`SourceFile::read_span`](miette::SourceCode::read_span)).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    lines: Arc<OnceLock<Vec<usize>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
            lines: Arc::default(),
        }
    }

    /// Byte offsets where lines start: 0, then the byte after each line break (`\n`,
    /// `\r\n`, or a lone `\r`, as miette counts them).
    fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut starts = vec![0];
            for (i, b) in bytes.iter().enumerate() {
                match b {
                    b'\n' => starts.push(i + 1),
                    b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                    _ => {}
                }
            }
            starts
        })
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts().partition_point(|&s| s <= offset) - 1
    }

    /// The whole lines that hold `span` with `before` (plus one) lines above and `after`
    /// (plus two) below: (first line, start offset, end offset). Two lines more than asked after the
    /// span: miette's reader stops by itself, and must not reach the window's end before it
    /// would have. `None` when the span lies outside the text.
    fn window(
        &self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Option<(usize, usize, usize)> {
        let starts = self.line_starts();
        let len = self.text.len();
        let (offset, end) = (span.offset(), span.offset() + span.len());
        if offset > len || end > len + 1 {
            return None;
        }
        // One line more above than asked: for an empty span at a line's start, miette's
        // reader looks at the byte before it.
        let first = self.line_of(offset).saturating_sub(before + 1);
        let last = self.line_of(end.min(len)) + after + 2;
        Some((
            first,
            starts[first],
            starts.get(last).copied().unwrap_or(len),
        ))
    }

    /// 1-based line and column (in characters) of a byte offset, for JSON diagnostics.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        let start = self.line_starts()[line];
        let col = self.text[start..offset].chars().count() + 1;
        (line + 1, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl miette::SourceCode for SourceFile {
    /// What miette's reader of a `str` gives, computed on a window of whole lines around
    /// the span (found in the line index) instead of the text from its start; the window's
    /// offsets and line numbers are shifted back to the file's.
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let offset = span.offset();
        let Some((first, from, to)) = self.window(span, context_lines_before, context_lines_after)
        else {
            return Err(miette::MietteError::OutOfBounds);
        };
        let window = &self.text[from..to];
        let shifted = miette::SourceSpan::new((offset - from).into(), span.len());
        let inner = window.read_span(&shifted, context_lines_before, context_lines_after)?;
        let inner_span = inner.span();
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                miette::SourceSpan::new((inner_span.offset() + from).into(), inner_span.len()),
                inner.line() + first,
                inner.column(),
                inner.line_count() + first,
            )
            .with_language("yaml"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::SourceCode;

    /// What miette reads from `src`: the data, offset, length, line, column and line count.
    fn read(
        src: &(impl SourceCode + ?Sized),
        span: miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Option<(String, usize, usize, usize, usize, usize)> {
        let c = src.read_span(&span, before, after).ok()?;
        Some((
            String::from_utf8_lossy(c.data()).into_owned(),
            c.span().offset(),
            c.span().len(),
            c.line(),
            c.column(),
            c.line_count(),
        ))
    }

    #[test]
    fn reading_a_span_through_the_line_index_gives_what_miette_gives() {
        let texts = [
            "stack: a\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n",
            "a: 1\r\nb: 2\r\n\r\nc: [1, 2]\rd: x\n\nlast line without end",
            "\n\n\nx\n",
            "é: ü\nß: 2\n",
        ];
        for text in texts {
            let file = SourceFile::new("t.yaml", text);
            for start in 0..=text.len() {
                for len in 0..=(text.len() - start).min(12) {
                    for (before, after) in [(0, 0), (1, 1), (2, 3), (0, 2), (3, 0)] {
                        let span = miette::SourceSpan::new(start.into(), len);
                        assert_eq!(
                            read(&file, span, before, after),
                            read(text, span, before, after),
                            "{text:?} at {start}+{len}, context {before}/{after}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_span_reads_only_the_lines_around_it_wherever_it_is() {
        // The work of placing a diagnostic does not grow with its distance from the start
        // of the file: the window handed to miette's reader is a few lines long, at the
        // end of a 100,000-line file as at its start.
        let text: String = (0..100_000).map(|i| format!("  key{i}: value\n")).collect();
        let file = SourceFile::new("big.yaml", text.as_str());
        for offset in [0, text.len() / 2, text.len() - 5] {
            let span = miette::SourceSpan::new(offset.into(), 3);
            let (first, from, to) = file.window(&span, 2, 2).expect("in the text");
            let lines = text[from..to].matches('\n').count();
            assert!(lines <= 3 + 1 + 2 + 2, "{lines} lines read at {offset}");
            assert!(first + 4 >= file.line_of(offset));
        }
        assert_eq!(file.line_col(text.len() - 1), (100_000, 18));
    }
}
