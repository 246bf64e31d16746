//! Figures as offline HTML files (feature `plots`).
//!
//! Each figure is a thin HTML page (a few kB) that loads `plotly.min.js` from its own folder —
//! the copy of plotly.js shipped inside the plotly crate, written once per folder — so the
//! figures open from a `file://` URL with no network.

use crate::error::{Error, Result};
use std::path::Path;

/// The file name of the shared plotly.js beside the figures.
pub const PLOTLY_JS: &str = "plotly.min.js";

/// Writes `plot` as `path` (HTML) and ensures `plotly.min.js` sits beside it.
pub fn write_html(plot: &plotly::Plot, path: impl AsRef<Path>) -> Result<()> {
    write_html_page(&[plot], path)
}

/// Writes several figures stacked on one HTML page, with `plotly.min.js` beside it.
pub fn write_html_page(plots: &[&plotly::Plot], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let js = dir.join(PLOTLY_JS);
    if !js.exists() {
        super::write_text(&js, &plotly_js()?)?;
    }
    let title = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("figure");
    let divs: Vec<String> = plots
        .iter()
        .enumerate()
        .map(|(k, p)| p.to_inline_html(Some(&format!("{title}_{k}"))))
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n<title>{title}</title>\n\
         <script src=\"{PLOTLY_JS}\"></script>\n</head>\n<body>\n{}\n</body>\n</html>\n",
        divs.join("\n")
    );
    super::write_text(path, &html)
}

/// plotly.js itself, cut out of the `<script>` tags of the crate's offline sources.
fn plotly_js() -> Result<String> {
    let sources = plotly::Plot::offline_js_sources();
    let open = "<script type=\"text/javascript\">";
    let body = sources
        .strip_prefix(open)
        .or_else(|| sources.trim_start().strip_prefix(open))
        .and_then(|rest| rest.split_once("</script>"))
        .map(|(js, _)| js.to_string());
    body.filter(|js| js.len() > 100_000)
        .ok_or_else(|| Error::Io {
            path: PLOTLY_JS.into(),
            detail: "the plotly crate's embedded plotly.js was not found".into(),
        })
}
