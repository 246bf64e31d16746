//! A user's numeric data from a file: `.npy` (1-D or 2-D), `.npz` (one array of it, by name;
//! `np.savez` or `np.savez_compressed`), `.csv` (a header row, then numbers; an empty field or
//! `nan` is NaN) or `.parquet` (with the `parquet` feature: numeric columns, a null is NaN), as a
//! row-major [`Table`], and column selection by names and index ranges (`--x-cols a,b` or
//! `0:3,5`). Arrays may hold floats, integers or booleans; every value is read as f64.

use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use std::path::Path;

/// A numeric table: `n` rows, one name per column (indices as names for arrays), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names (`"0"`, `"1"`, … for arrays).
    pub names: Vec<String>,
    /// Number of rows.
    pub n: usize,
    /// The values, row-major `[n, names.len()]`.
    pub values: Vec<f64>,
    /// Columns of the file that hold no numbers (name, type), left out of the table.
    pub skipped: Vec<(String, String)>,
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

impl Table {
    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.names.len()
    }

    /// The table as an f64 tensor `[n, dim]`.
    pub fn to_tensor(&self) -> Result<Tensor> {
        Ok(Tensor::from_vec(
            self.values.clone(),
            (self.n, self.dim()),
            &Device::Cpu,
        )?)
    }

    /// The column indices a spec names: comma-separated items, each a column name, an index, or
    /// a half-open index range `a:b` (`:b` from 0, `a:` to the end).
    pub fn resolve(&self, spec: &str) -> Result<Vec<usize>> {
        let d = self.dim();
        let err = |item: &str, reason: &'static str| Error::InvalidParameter {
            op: "columns",
            name: "cols",
            value: item.to_string(),
            reason,
        };
        let mut out = Vec::new();
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(err(spec, "an empty column item"));
            }
            if let Some(k) = self.names.iter().position(|n| n == item) {
                out.push(k);
            } else if let Some((_, dtype)) = self.skipped.iter().find(|(n, _)| n == item) {
                return Err(Error::InvalidParameter {
                    op: "columns",
                    name: "cols",
                    value: format!("{item} ({dtype})"),
                    reason: "not a numeric column",
                });
            } else if let Some((a, b)) = item.split_once(':') {
                let parse = |s: &str, default: usize| -> Result<usize> {
                    if s.trim().is_empty() {
                        Ok(default)
                    } else {
                        s.trim()
                            .parse()
                            .map_err(|_| err(item, "a range is a:b with column indices"))
                    }
                };
                let (a, b) = (parse(a, 0)?, parse(b, d)?);
                if a >= b || b > d {
                    return Err(Error::InvalidParameter {
                        op: "columns",
                        name: "cols",
                        value: item.to_string(),
                        reason: "empty or out-of-range column range (a:b is half-open, within \
                                 the table's columns)",
                    });
                }
                out.extend(a..b);
            } else if let Ok(k) = item.parse::<usize>() {
                if k >= d {
                    return Err(Error::InvalidParameter {
                        op: "columns",
                        name: "cols",
                        value: format!("{item} (the table has {d} columns)"),
                        reason: "column index out of range",
                    });
                }
                out.push(k);
            } else {
                let mut known = self
                    .names
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if d > 20 {
                    known.push_str(", …");
                }
                return Err(Error::InvalidParameter {
                    op: "columns",
                    name: "cols",
                    value: format!("{item} (columns: {known})"),
                    reason: "unknown column",
                });
            }
        }
        Ok(out)
    }

    /// The columns at `idx`, in that order.
    pub fn columns(&self, idx: &[usize]) -> Table {
        let d = self.dim();
        Table {
            names: idx.iter().map(|&k| self.names[k].clone()).collect(),
            n: self.n,
            values: (0..self.n)
                .flat_map(|i| idx.iter().map(move |&k| self.values[i * d + k]))
                .collect(),
            skipped: Vec::new(),
        }
    }

    pub(super) fn from_tensor(path: &Path, t: &Tensor) -> Result<Table> {
        let (n, d) = match t.dims() {
            [n] => (*n, 1),
            [n, d] => (*n, *d),
            other => {
                return Err(bad(
                    path,
                    format!("expected a 1-D or 2-D array (a row per sample), got shape {other:?}"),
                ))
            }
        };
        if d == 0 {
            return Err(bad(path, "the array has no columns"));
        }
        Ok(Table {
            names: (0..d).map(|k| k.to_string()).collect(),
            n,
            values: t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?,
            skipped: Vec::new(),
        })
    }
}

/// Reads a table from `.npy`, `.npz`, `.csv` or `.parquet` (by extension). For `.npz`, `key`
/// names the array; without it the file must hold `default_key` or exactly one array.
pub fn read_table(path: impl AsRef<Path>, key: Option<&str>, default_key: &str) -> Result<Table> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "npy" => Table::from_tensor(path, &super::npy::read_npy_numeric(path)?),
        "npz" => Table::from_tensor(path, &read_npz(path, key, default_key)?),
        "csv" => read_csv(path),
        #[cfg(feature = "parquet")]
        "parquet" => super::parquet::read_parquet(path),
        #[cfg(not(feature = "parquet"))]
        "parquet" => Err(bad(
            path,
            "this build reads no parquet (built without the `parquet` feature): rebuild with \
             it, or save the table as .csv or .npz",
        )),
        _ => Err(bad(
            path,
            "unknown file type: use .npy, .npz, .csv or .parquet (by extension)",
        )),
    }
}

/// One array of an `.npz` archive — stored (`np.savez`) or deflated (`np.savez_compressed`) —
/// read with the strict `.npy` reader (floats, integers and booleans; integers as f64).
pub fn read_npz(path: impl AsRef<Path>, key: Option<&str>, default_key: &str) -> Result<Tensor> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(path, format!("not a valid .npz (zip) file: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok())
        .filter_map(|n| n.strip_suffix(".npy").map(str::to_string))
        .collect();
    let chosen = match key {
        Some(k) => k.to_string(),
        None if names.iter().any(|n| n == default_key) => default_key.to_string(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(bad(
                path,
                format!(
                    "holds arrays [{}]: none is named `{default_key}`; choose one with \
                     --x-key / --y-key",
                    names.join(", ")
                ),
            ))
        }
    };
    if !names.contains(&chosen) {
        return Err(bad(
            path,
            format!("has no array `{chosen}` (arrays: [{}])", names.join(", ")),
        ));
    }
    let entry = zip
        .by_name(&format!("{chosen}.npy"))
        .map_err(|e| bad(path, format!("cannot read array `{chosen}`: {e}")))?;
    // The uncompressed size, which the header's promise is checked against before any data.
    let size = entry.size();
    super::npy::read_npy_from(entry, Some(size), true).map_err(|d| {
        bad(
            path,
            format!("array `{chosen}` is not a valid numeric .npy (corrupt or truncated?): {d}"),
        )
    })
}

fn read_csv(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let (names, rows) = super::parse_csv("csv", &text).map_err(|e| bad(path, e.to_string()))?;
    let mut values = Vec::with_capacity(rows.len() * names.len());
    for (i, row) in rows.iter().enumerate() {
        for (k, field) in row.iter().enumerate() {
            let v = if field.is_empty() {
                f64::NAN
            } else {
                field.parse::<f64>().map_err(|_| {
                    bad(
                        path,
                        format!(
                            "row {} (after the header), column `{}`: {field:?} is not a number",
                            i + 1,
                            names[k]
                        ),
                    )
                })?
            };
            values.push(v);
        }
    }
    Ok(Table {
        names,
        n: rows.len(),
        values,
        skipped: Vec::new(),
    })
}

/// Where X and Y come from (the inputs of `mi estimate`).
#[derive(Clone, Copy, Debug)]
pub struct XySource<'a> {
    /// The file holding X (and Y, when `y` is `None`).
    pub x: &'a Path,
    /// The file holding Y, if not X's.
    pub y: Option<&'a Path>,
    /// X's columns (default: all, or all but Y's in a shared file).
    pub x_cols: Option<&'a str>,
    /// Y's columns (default: all of Y's file; required for a shared table file).
    pub y_cols: Option<&'a str>,
    /// X's array in an `.npz` (default `x`, or the only array).
    pub x_key: Option<&'a str>,
    /// Y's array in an `.npz` (default `y`, or the only array).
    pub y_key: Option<&'a str>,
}

fn is_npz(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// Reads X and Y: from two files, from one `.npz` holding both arrays, or from the columns of
/// one table (`y_cols` required; X defaults to the other columns).
pub fn read_xy(src: &XySource) -> Result<(Table, Table)> {
    let pick = |t: Table, cols: Option<&str>| -> Result<Table> {
        match cols {
            Some(spec) => Ok(t.columns(&t.resolve(spec)?)),
            None => Ok(t),
        }
    };
    if let Some(y_path) = src.y {
        let x = pick(read_table(src.x, src.x_key, "x")?, src.x_cols)?;
        let y = pick(read_table(y_path, src.y_key, "y")?, src.y_cols)?;
        return Ok((x, y));
    }
    if is_npz(src.x) && src.y_cols.is_none() {
        let x = pick(
            read_table(src.x, Some(src.x_key.unwrap_or("x")), "x")?,
            src.x_cols,
        )?;
        let y = Table::from_tensor(
            src.x,
            &read_npz(src.x, Some(src.y_key.unwrap_or("y")), "y")?,
        )?;
        return Ok((x, y));
    }
    let spec = src.y_cols.ok_or_else(|| Error::InvalidParameter {
        op: "mi estimate",
        name: "y",
        value: src.x.display().to_string(),
        reason: "no Y: give --y FILE, or --y-cols to take Y from the columns of the --x file",
    })?;
    let table = read_table(src.x, src.x_key, "x")?;
    let y_idx = table.resolve(spec)?;
    let x_idx = match src.x_cols {
        Some(s) => table.resolve(s)?,
        None => (0..table.dim()).filter(|k| !y_idx.contains(k)).collect(),
    };
    if x_idx.is_empty() {
        return Err(bad(src.x, "no columns left for X: give --x-cols"));
    }
    if let Some(k) = x_idx.iter().find(|k| y_idx.contains(k)) {
        return Err(Error::InvalidParameter {
            op: "mi estimate",
            name: "cols",
            value: table.names[*k].clone(),
            reason: "this column is in both X and Y (their MI would be infinite)",
        });
    }
    Ok((table.columns(&x_idx), table.columns(&y_idx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            names: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            n: 2,
            values: (0..8).map(f64::from).collect(),
            skipped: vec![("s".into(), "str".into())],
        }
    }

    #[test]
    fn specs_resolve_names_indices_and_ranges() -> Result<()> {
        let t = table();
        assert_eq!(t.resolve("a,c")?, vec![0, 2]);
        assert_eq!(t.resolve("1:3")?, vec![1, 2]);
        assert_eq!(t.resolve(":2, 3")?, vec![0, 1, 3]);
        assert_eq!(t.resolve("2:")?, vec![2, 3]);
        assert_eq!(t.columns(&[3, 0]).values, vec![3.0, 0.0, 7.0, 4.0]);
        for bad in ["e", "4", "3:2", "0:5", "", "a,,b", "x:y", "s"] {
            assert!(t.resolve(bad).is_err(), "{bad}");
        }
        assert!(t
            .resolve("e")
            .map_err(|e| e.to_string())
            .unwrap_err()
            .contains("a, b, c, d"));
        assert!(t
            .resolve("a,s")
            .map_err(|e| e.to_string())
            .unwrap_err()
            .contains("s (str): not a numeric column"));
        Ok(())
    }
}
