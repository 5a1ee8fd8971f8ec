//! Text tables for people: columns padded to their widest cell, two spaces apart, no trailing
//! blanks. The cells are borrowed: a table of ten thousand rows copies none of them. The rows
//! are gone through twice (to measure, then to write), so they may be made as they are
//! needed instead of held all at once.

/// A cell's width in characters (its length in bytes when it is ASCII, as most are).
fn width(cell: &str) -> usize {
    if cell.is_ascii() {
        cell.len()
    } else {
        cell.chars().count()
    }
}

/// `n` spaces, a run at a time rather than a character at a time.
fn pad(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let run = n.min(SPACES.len());
        out.push_str(&SPACES[..run]);
        n -= run;
    }
}

/// A header row, then the rows.
pub fn with_header<I, R, C>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = R>,
    I::IntoIter: Clone,
    R: AsRef<[C]>,
    C: AsRef<str>,
{
    let rows = rows.into_iter();
    let mut widths: Vec<usize> = Vec::new();
    let (mut bytes, mut count) = (0, 0);
    let mut measure = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, cell) in cells.enumerate() {
            if i == widths.len() {
                widths.push(0);
            }
            widths[i] = widths[i].max(width(cell));
            bytes += cell.len();
        }
    };
    measure(&mut header.iter().copied());
    for r in rows.clone() {
        measure(&mut r.as_ref().iter().map(AsRef::as_ref));
        count += 1;
    }
    let cols = widths.len();
    let mut out = String::with_capacity(bytes + (count + 1) * (2 * cols + 1));
    let mut line = |cells: &mut dyn ExactSizeIterator<Item = &str>| {
        let start = out.len();
        let n = cells.len();
        for (i, cell) in cells.enumerate() {
            out.push_str(cell);
            if i + 1 < n {
                pad(&mut out, widths[i] - width(cell) + 2);
            }
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.as_ref().iter().map(AsRef::as_ref));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let t = super::with_header(&["A", "BB"], &[vec!["long", "x"]]);
        assert_eq!(t, "A     BB\nlong  x\n");
    }

    #[test]
    fn short_rows_and_wide_characters_are_padded_by_characters() {
        let rows = [vec!["é", "x ", "y"], vec!["abc"]];
        let t = super::with_header(&["A", "B"], &rows);
        assert_eq!(t, "A    B\né    x   y\nabc\n");
    }
}
