//! `docs/metrics.md` carries the band table rendered from the definitions, between
//! `<!-- bands:start -->` and `<!-- bands:end -->`. Run with `LEADCLOCK_BLESS=1` to rewrite it.

use leadclock_domain::metrics::bands::markdown_table;
use std::path::PathBuf;

const START: &str = "<!-- bands:start -->\n";
const END: &str = "<!-- bands:end -->";

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/metrics.md")
}

/// Byte range of the block between the markers.
fn block(doc: &str) -> Option<(usize, usize)> {
    let start = doc.find(START)? + START.len();
    let end = start + doc[start..].find(END)?;
    Some((start, end))
}

#[test]
fn the_band_table_in_the_doc_is_rendered_from_the_definitions() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let Some((start, end)) = block(&doc) else {
        panic!("{} lacks the {START:?} … {END:?} markers", path.display());
    };
    let expected = markdown_table();
    if doc[start..end] == expected {
        return;
    }
    if std::env::var_os("LEADCLOCK_BLESS").is_some_and(|v| v == "1") {
        let blessed = format!("{}{expected}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, blessed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    panic!(
        "the band table in {} differs from the definitions; rerun with LEADCLOCK_BLESS=1 to rewrite it. Expected:\n{START}{expected}{END}\n",
        path.display()
    );
}
