//! A user's numeric data from a file: `.npy` (1-D or 2-D), `.npz` (one array of it, by name;
//! `np.savez` or `np.savez_compressed`), `.csv` (a header row, then numbers; an empty field or
//! `nan` is NaN) or `.parquet` (with the `parquet` feature: numeric columns, a null is NaN), as a
//! row-major [`Table`], and column selection by names and index ranges (`--x-cols a,b` or
//! `0:3,5`). Arrays may hold floats, integers or booleans; every value is read as f64.

use crate::error::{Error, Result};
use crate::limits::{self, excerpt};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
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
    /// a half-open index range `a:b` (`:b` from 0, `a:` to the end). Linear in the spec and the
    /// table's width (names are looked up in a hash map).
    pub fn resolve(&self, spec: &str) -> Result<Vec<usize>> {
        let d = self.dim();
        let err = |item: &str, reason: &'static str| Error::InvalidParameter {
            op: "columns",
            name: "cols",
            value: excerpt(item),
            reason,
        };
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(d);
        for (k, name) in self.names.iter().enumerate() {
            index.entry(name.as_str()).or_insert(k);
        }
        let mut out = Vec::new();
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(err(spec, "an empty column item"));
            }
            if let Some(&k) = index.get(item) {
                out.push(k);
            } else if let Some((_, dtype)) = self.skipped.iter().find(|(n, _)| n == item) {
                return Err(Error::InvalidParameter {
                    op: "columns",
                    name: "cols",
                    value: format!("{} ({dtype})", excerpt(item)),
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
                    return Err(err(
                        item,
                        "empty or out-of-range column range (a:b is half-open, within the \
                         table's columns)",
                    ));
                }
                limits::check_memory(
                    "columns",
                    "cols",
                    excerpt(spec),
                    limits::bytes_of(&[out.len() + (b - a), std::mem::size_of::<usize>()]),
                )?;
                out.extend(a..b);
            } else if let Ok(k) = item.parse::<usize>() {
                if k >= d {
                    return Err(Error::InvalidParameter {
                        op: "columns",
                        name: "cols",
                        value: format!("{} (the table has {d} columns)", excerpt(item)),
                        reason: "column index out of range",
                    });
                }
                out.push(k);
            } else {
                let mut known = self
                    .names
                    .iter()
                    .take(20)
                    .map(|n| excerpt(n))
                    .collect::<Vec<_>>()
                    .join(", ");
                if d > 20 {
                    known.push_str(", …");
                }
                return Err(Error::InvalidParameter {
                    op: "columns",
                    name: "cols",
                    value: format!("{} (columns: {})", excerpt(item), excerpt(&known)),
                    reason: "unknown column",
                });
            }
        }
        Ok(out)
    }

    /// The columns at `idx`, in that order (checked against the memory cap first).
    pub fn columns(&self, idx: &[usize]) -> Result<Table> {
        let d = self.dim();
        limits::check_memory(
            "columns",
            "cols",
            format!("{} rows × {} columns", self.n, idx.len()),
            limits::bytes_of(&[self.n, idx.len(), 8]),
        )?;
        Ok(Table {
            names: idx.iter().map(|&k| self.names[k].clone()).collect(),
            n: self.n,
            values: (0..self.n)
                .flat_map(|i| idx.iter().map(move |&k| self.values[i * d + k]))
                .collect(),
            skipped: Vec::new(),
        })
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
        if n == 0 {
            return Err(bad(
                path,
                format!("the array has no rows (shape {:?})", t.dims()),
            ));
        }
        // The names (a short string per column) and the f64 values, before either exists.
        limits::memory_fits(limits::sum_bytes(&[
            limits::bytes_of(&[d, NAME_BYTES]),
            limits::bytes_of(&[n, d, 8, 2]),
        ]))
        .map_err(|why| bad(path, format!("a table of shape {:?} {why}", t.dims())))?;
        Ok(Table {
            names: (0..d).map(|k| k.to_string()).collect(),
            n,
            values: t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?,
            skipped: Vec::new(),
        })
    }
}

/// Bytes of one generated column name (`"12345"`: a `String` and its digits), for the memory
/// check of an array's table.
const NAME_BYTES: usize = std::mem::size_of::<String>() + 24;

/// Reads a table from `.npy`, `.npz`, `.csv` or `.parquet` (by extension). For `.npz`, `key`
/// names the array; without it the file must hold `default_key` or exactly one array.
pub fn read_table(path: impl AsRef<Path>, key: Option<&str>, default_key: &str) -> Result<Table> {
    read_table_keyed(path.as_ref(), key, default_key).map(|(t, _)| t)
}

/// [`read_table`], and for an `.npz` the name of the array it read.
pub(super) fn read_table_keyed(
    path: &Path,
    key: Option<&str>,
    default_key: &str,
) -> Result<(Table, Option<String>)> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let table = match ext.as_str() {
        "npy" => Table::from_tensor(path, &super::npy::read_npy_numeric(path)?),
        "npz" => {
            let (chosen, t) = read_npz_keyed(path, key, default_key)?;
            return Ok((Table::from_tensor(path, &t)?, Some(chosen)));
        }
        "csv" => super::csv_input::read_csv(path),
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
    }?;
    Ok((table, None))
}

/// One array of an `.npz` archive — stored (`np.savez`) or deflated (`np.savez_compressed`) —
/// read with the strict `.npy` reader (floats, integers and booleans; integers as f64).
pub fn read_npz(path: impl AsRef<Path>, key: Option<&str>, default_key: &str) -> Result<Tensor> {
    read_npz_keyed(path.as_ref(), key, default_key).map(|(_, t)| t)
}

/// [`read_npz`], and the name of the array it read.
pub(super) fn read_npz_keyed(
    path: &Path,
    key: Option<&str>,
    default_key: &str,
) -> Result<(String, Tensor)> {
    let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(path, format!("not a valid .npz (zip) file: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok())
        .filter_map(|n| n.strip_suffix(".npy").map(str::to_string))
        .collect();
    let listed = || excerpt(&names.join(", "));
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
                    listed()
                ),
            ))
        }
    };
    if !names.contains(&chosen) {
        return Err(bad(
            path,
            format!(
                "has no array `{}` (arrays: [{}])",
                excerpt(&chosen),
                listed()
            ),
        ));
    }
    let shown = excerpt(&chosen);
    let entry = zip
        .by_name(&format!("{chosen}.npy"))
        .map_err(|e| bad(path, format!("cannot read array `{shown}`: {e}")))?;
    // The uncompressed size, which the header's promise is checked against before any data.
    let size = entry.size();
    let t = super::npy::read_npy_from(entry, Some(size), true).map_err(|d| {
        bad(
            path,
            format!("array `{shown}` is not a valid numeric .npy (corrupt or truncated?): {d}"),
        )
    })?;
    Ok((chosen, t))
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
        assert_eq!(t.columns(&[3, 0])?.values, vec![3.0, 0.0, 7.0, 4.0]);
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
