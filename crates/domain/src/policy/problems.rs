//! Collecting problems while validating, each placed at its real line and column.

use super::raw::Span;
use super::Problem;
use serde::de::DeserializeOwned;

/// Every problem found so far in one source text.
pub(super) struct Problems<'a> {
    src: &'a str,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, list: Vec::new() }
    }

    /// Records a problem at `at` (a span of `src`), or at no position when there is nothing to
    /// point at (a table that is missing altogether).
    pub fn add(&mut self, path: impl Into<String>, at: impl Into<Option<Span>>, message: impl Into<String>) {
        let (line, column) = match at.into() {
            Some(span) => {
                let (line, column) = position(self.src, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        self.list.push(Problem {
            path: path.into(),
            line,
            column,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The validated value when nothing was wrong, else every problem.
    ///
    /// `value` is `None` only when a problem explains why; should that ever not hold, the
    /// caller still gets a problem rather than a panic or an empty error.
    pub fn finish<T>(mut self, value: Option<T>) -> Result<T, Vec<Problem>> {
        match value {
            Some(v) if self.list.is_empty() => Ok(v),
            Some(_) => Err(self.list),
            None => {
                if self.list.is_empty() {
                    self.add("(file)", None, "the policy could not be built (internal error)");
                }
                Err(self.list)
            }
        }
    }
}

/// Parses `src` into the raw schema `T`; a syntax or schema error becomes the only problem.
pub(super) fn parse_toml<T: DeserializeOwned>(src: &str) -> Result<T, Vec<Problem>> {
    toml::from_str(src).map_err(|e| {
        let mut p = Problems::new(src);
        p.add("(file)", e.span(), e.message());
        p.list
    })
}

/// 1-based line and column (in characters) of byte `offset` of `src`.
///
/// Works on bytes so that an offset past the end or inside a character cannot panic.
pub(super) fn position(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = src
        .get(line_start..offset)
        .map_or(offset - line_start, |s| s.chars().count());
    (line, column + 1)
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn positions_count_lines_and_characters() {
        let src = "ab\ncd\n\u{e9}x = 1";
        assert_eq!(position(src, 0), (1, 1));
        assert_eq!(position(src, 1), (1, 2));
        assert_eq!(position(src, 2), (1, 3));
        assert_eq!(position(src, 3), (2, 1));
        assert_eq!(position(src, 6), (3, 1));
        // `x` follows a two-byte character: column 2, not 3.
        assert_eq!(position(src, 8), (3, 2));
        assert_eq!(position(src, 999), (3, 7));
        // Inside the two-byte character: no panic, a byte count instead.
        assert_eq!(position(src, 7), (3, 2));
    }
}
