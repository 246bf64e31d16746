//! Result tables as polars DataFrames (feature `tables`), built without macros (evcxr notebooks
//! cannot import macros from dependencies), written as CSV and shown as HTML.
//!
//! ```
//! use mi_core::table::TableBuilder;
//! let df = TableBuilder::new()
//!     .str("bound", ["tnce", "loo_upper"])
//!     .f64("mean", [1.81, 2.16])
//!     .build()?;
//! assert_eq!(df.height(), 2);
//! assert_eq!(mi_core::table::to_csv(&df), "bound,mean\ntnce,1.81\nloo_upper,2.16\n");
//! # Ok::<(), mi_core::Error>(())
//! ```

use crate::error::{Error, Result};
use polars::prelude::{AnyValue, Column, DataFrame};
use std::path::Path;

/// Builds a DataFrame column by column; the first error (unequal lengths) surfaces in
/// [`TableBuilder::build`].
#[derive(Default)]
pub struct TableBuilder {
    columns: Vec<Column>,
}

impl TableBuilder {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a text column.
    pub fn str<S: AsRef<str>>(mut self, name: &str, values: impl IntoIterator<Item = S>) -> Self {
        let v: Vec<String> = values.into_iter().map(|s| s.as_ref().to_string()).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    /// Appends a float column.
    pub fn f64(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Self {
        let v: Vec<f64> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    /// Appends an unsigned integer column (stored as u64).
    pub fn u64(mut self, name: &str, values: impl IntoIterator<Item = u64>) -> Self {
        let v: Vec<u64> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    /// The DataFrame; errors if the columns differ in length or repeat a name.
    pub fn build(self) -> Result<DataFrame> {
        let height = self.columns.first().map_or(0, |c| c.len());
        DataFrame::new(height, self.columns).map_err(|e| Error::Shape {
            op: "table",
            detail: e.to_string(),
        })
    }
}

/// One cell as CSV text: floats in shortest round-trip form (NaN and nulls empty), text quoted
/// when needed.
fn csv_cell(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) if x.is_nan() => String::new(),
        AnyValue::Float32(x) if x.is_nan() => String::new(),
        AnyValue::Float64(x) => x.to_string(),
        AnyValue::Float32(x) => x.to_string(),
        other => {
            let s = other.str_value();
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.into_owned()
            }
        }
    }
}

/// One cell for reading: floats with 4 significant decimals (or scientific when tiny or huge).
fn display_cell(v: &AnyValue) -> String {
    let float = |x: f64| {
        if !x.is_finite() || x == 0.0 {
            x.to_string()
        } else if x.abs() >= 1e5 || x.abs() < 1e-3 {
            format!("{x:.3e}")
        } else {
            format!("{x:.4}")
        }
    };
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => float(*x),
        AnyValue::Float32(x) => float(f64::from(*x)),
        other => other.str_value().into_owned(),
    }
}

fn cells(df: &DataFrame, row: usize, f: fn(&AnyValue) -> String) -> Vec<String> {
    df.columns()
        .iter()
        .map(|c| c.get(row).map(|v| f(&v)).unwrap_or_default())
        .collect()
}

/// The table as CSV (header line, then one line per row).
pub fn to_csv(df: &DataFrame) -> String {
    let mut out = df
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for i in 0..df.height() {
        out.push_str(&cells(df, i, csv_cell).join(","));
        out.push('\n');
    }
    out
}

/// Writes the table as a CSV file (creating the folder).
pub fn write_csv(df: &DataFrame, path: impl AsRef<Path>) -> Result<()> {
    crate::io::write_text(path, &to_csv(df))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The table as an HTML `<table>` (at most `max_rows` rows, then a "… n more rows" line).
pub fn to_html(df: &DataFrame, max_rows: usize) -> String {
    let mut html = String::from(
        "<table class=\"mi-table\" style=\"border-collapse:collapse;font-family:monospace;\
         font-size:12px\">\n<thead><tr>",
    );
    for c in df.columns() {
        html.push_str(&format!(
            "<th style=\"text-align:right;padding:2px 8px;border-bottom:1px solid #888\">{}\
             <br><span style=\"color:#888;font-weight:normal\">{}</span></th>",
            escape(c.name()),
            escape(&c.dtype().to_string())
        ));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    let shown = df.height().min(max_rows);
    for i in 0..shown {
        html.push_str("<tr>");
        for cell in cells(df, i, display_cell) {
            html.push_str(&format!(
                "<td style=\"text-align:right;padding:2px 8px\">{}</td>",
                escape(&cell)
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    if df.height() > shown {
        html.push_str(&format!(
            "<p style=\"font-size:12px;color:#666\">… {} more rows ({} in all)</p>\n",
            df.height() - shown,
            df.height()
        ));
    }
    html
}
