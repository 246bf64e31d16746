//! Result tables as polars DataFrames (feature `tables`), built without macros (evcxr notebooks
//! cannot import macros from dependencies), written as CSV and shown as HTML; a user's CSV read
//! as a DataFrame ([`read_csv`]) and its numeric columns as a tensor ([`columns_tensor`]) for
//! [`crate::estimate()`].
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
use candle_core::{Device, Tensor};
use polars::prelude::{AnyValue, Column, DataFrame, DataType};
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

    /// Appends a boolean column (CSV `true` / `false`).
    pub fn bool(mut self, name: &str, values: impl IntoIterator<Item = bool>) -> Self {
        let v: Vec<bool> = values.into_iter().collect();
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

/// Reads a CSV file (a header row, then one row per record) as a DataFrame: a column whose every
/// field is a number (an empty field or `nan` reads as NaN) becomes f64, any other column text.
pub fn read_csv(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    let text = crate::io::read_text(path, " (expected a CSV table with a header row)")?;
    let (header, rows) = crate::io::parse_csv("table::read_csv", &text)?;
    let number = |s: &str| -> Option<f64> {
        if s.is_empty() || s.eq_ignore_ascii_case("nan") {
            Some(f64::NAN)
        } else {
            s.parse().ok()
        }
    };
    let mut t = TableBuilder::new();
    for (k, name) in header.iter().enumerate() {
        let cells = rows.iter().map(|r| r.get(k).map_or("", String::as_str));
        let numbers: Option<Vec<f64>> = cells.clone().map(number).collect();
        t = match numbers {
            Some(v) => t.f64(name, v),
            None => t.str(name, cells),
        };
    }
    t.build()
}

/// The numeric columns `names` of `df` as an f64 tensor `[rows, names.len()]` (row i of the
/// tensor is row i of the table; a null reads as NaN). An unknown or non-numeric column is an
/// error naming it.
pub fn columns_tensor(df: &DataFrame, names: &[&str]) -> Result<Tensor> {
    if names.is_empty() {
        return Err(Error::InvalidParameter {
            op: "table::columns_tensor",
            name: "names",
            value: String::new(),
            reason: "name at least one column",
        });
    }
    let mut cols = Vec::with_capacity(names.len());
    for name in names {
        let bad = |reason: &'static str| Error::InvalidParameter {
            op: "table::columns_tensor",
            name: "column",
            value: (*name).to_string(),
            reason,
        };
        let col = df.column(name).map_err(|_| bad("no such column"))?;
        if !col.dtype().is_primitive_numeric() {
            return Err(bad("not a numeric column"));
        }
        let col = col
            .cast(&DataType::Float64)
            .map_err(|_| bad("not a numeric column"))?;
        let values = col.f64().map_err(|_| bad("not a numeric column"))?;
        cols.push(
            values
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect::<Vec<f64>>(),
        );
    }
    let n = df.height();
    let k = cols.len();
    let values = (0..n)
        .flat_map(|i| cols.iter().map(move |c| c[i]))
        .collect();
    Ok(Tensor::from_vec(values, (n, k), &Device::Cpu)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_reads_numbers_as_f64_and_text_as_text_and_columns_become_a_tensor() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("mi_core_table_{}", std::process::id()));
        let path = dir.join("w.csv");
        crate::io::write_text(
            &path,
            "date,t,wind,kind\n2012/01/01,1.5,4,sun\n2012/01/02,,2.5,rain\n",
        )?;
        let df = read_csv(&path)?;
        assert_eq!(df.height(), 2);
        let dtypes: Vec<String> = df.columns().iter().map(|c| c.dtype().to_string()).collect();
        assert_eq!(dtypes, ["str", "f64", "f64", "str"]);
        let t = columns_tensor(&df, &["wind", "t"])?.to_vec2::<f64>()?;
        assert_eq!(t[0], [4.0, 1.5]);
        assert!(t[1][0] == 2.5 && t[1][1].is_nan());
        let err = |names: &[&str]| columns_tensor(&df, names).map_err(|e| e.to_string()).err();
        assert!(err(&["kind"]).is_some_and(|e| e.contains("not a numeric column")));
        assert!(err(&["nope"]).is_some_and(|e| e.contains("no such column")));
        assert!(err(&[]).is_some());
        assert!(read_csv(dir.join("missing.csv")).is_err());
        Ok(())
    }
}
