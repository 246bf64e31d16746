//! Parquet tables (feature `parquet`) through polars' reader: every numeric or boolean column, as
//! f64, a null read as NaN (so `mi estimate` refuses its row, or drops it with
//! `--drop-nonfinite`). Columns of other types (strings, dates, lists) are left out of the table
//! and listed in [`Table::skipped`], so naming one in `--x-cols` / `--y-cols` is a clear error,
//! while a default selection (all other columns) passes them over.
//!
//! Codecs: polars' parquet feature brings all of them (snappy, the default of pyarrow and
//! pandas, zstd, gzip, lz4, brotli); there is no smaller choice through polars.

use super::columns::Table;
use super::io_error;
use crate::error::Result;
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use std::path::Path;

/// The whole parquet file at `path` as a DataFrame; an error naming the file if it cannot be read
/// or is not parquet (empty, truncated, another format).
pub fn read_parquet_frame(path: &Path) -> Result<DataFrame> {
    let file =
        std::fs::File::open(path).map_err(|e| io_error(path, format!("cannot read: {e}")))?;
    ParquetReader::new(file).finish().map_err(|e| {
        io_error(
            path,
            format!("not a readable parquet file: {}", one_line(&e)),
        )
    })
}

/// Reads the numeric and boolean columns of the parquet file at `path`.
pub(super) fn read_parquet(path: &Path) -> Result<Table> {
    let df = read_parquet_frame(path)?;
    let n = df.height();
    let mut names = Vec::new();
    let mut skipped = Vec::new();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for col in df.columns() {
        let dtype = col.dtype();
        if !(dtype.is_primitive_numeric() || dtype.is_bool()) {
            skipped.push((col.name().to_string(), dtype.to_string()));
            continue;
        }
        let values = col
            .cast(&DataType::Float64)
            .and_then(|c| {
                c.f64().map(|v| {
                    v.iter()
                        .map(|x| x.unwrap_or(f64::NAN))
                        .collect::<Vec<f64>>()
                })
            })
            .map_err(|e| {
                io_error(
                    path,
                    format!("column `{}` ({dtype}): {}", col.name(), one_line(&e)),
                )
            })?;
        names.push(col.name().to_string());
        columns.push(values);
    }
    if names.is_empty() {
        return Err(io_error(
            path,
            format!(
                "no numeric column (columns: {})",
                if skipped.is_empty() {
                    "none".to_string()
                } else {
                    skipped
                        .iter()
                        .map(|(name, dtype)| format!("{name} ({dtype})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        ));
    }
    let values = (0..n)
        .flat_map(|i| columns.iter().map(move |c| c[i]))
        .collect();
    Ok(Table {
        names,
        n,
        values,
        skipped,
    })
}

/// A polars error as one line.
pub(crate) fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
