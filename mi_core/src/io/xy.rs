//! X and Y of `mi estimate` from the user's files: two files, one `.npz` holding both arrays, or
//! the columns of one table. X and Y read from the same data — the same file (by identity, not
//! by name: a symlink or a second spelling is the same file) and the same array — may not share
//! a column, whichever way they were named: their MI would be infinite.

use super::columns::{read_table_keyed, Table};
use crate::error::{Error, Result};
use std::path::Path;

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

/// Whether `a` and `b` name the same file (same device and inode on Unix; the same canonical
/// path elsewhere). A path that cannot be inspected is not the same as any other.
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// The column indices `cols` names in `t` (all columns without a spec).
fn indices(t: &Table, cols: Option<&str>) -> Result<Vec<usize>> {
    match cols {
        Some(spec) => t.resolve(spec),
        None => Ok((0..t.dim()).collect()),
    }
}

/// Refuses X and Y columns of one table that overlap (the same error for every way of naming
/// them); linear in the table's width.
fn refuse_shared(t: &Table, x_idx: &[usize], y_idx: &[usize]) -> Result<()> {
    let mut in_y = vec![false; t.dim()];
    for &k in y_idx {
        in_y[k] = true;
    }
    match x_idx.iter().find(|&&k| in_y[k]) {
        Some(&k) => Err(Error::InvalidParameter {
            op: "mi estimate",
            name: "cols",
            value: crate::limits::excerpt(&t.names[k]),
            reason: "this column is in both X and Y (their MI would be infinite)",
        }),
        None => Ok(()),
    }
}

/// X and Y as columns `x_idx`, `y_idx` of one table, refused if they share one.
fn split_table(t: &Table, x_idx: &[usize], y_idx: &[usize]) -> Result<(Table, Table)> {
    refuse_shared(t, x_idx, y_idx)?;
    Ok((t.columns(x_idx)?, t.columns(y_idx)?))
}

/// Reads X and Y: from two files, from one `.npz` holding both arrays, or from the columns of
/// one table (`y_cols` required; X defaults to the other columns).
pub fn read_xy(src: &XySource) -> Result<(Table, Table)> {
    if let Some(y_path) = src.y {
        let (xt, x_array) = read_table_keyed(src.x, src.x_key, "x")?;
        let x_idx = indices(&xt, src.x_cols)?;
        let same = same_file(src.x, y_path);
        if same && x_array.is_none() && !is_npz(y_path) {
            // One table named twice: its columns, as from one file.
            return split_table(&xt, &x_idx, &indices(&xt, src.y_cols)?);
        }
        let (yt, y_array) = read_table_keyed(y_path, src.y_key, "y")?;
        if same && x_array == y_array {
            // The same array of one `.npz`, named twice (its other arrays are other data).
            return split_table(&xt, &x_idx, &indices(&xt, src.y_cols)?);
        }
        let y_idx = indices(&yt, src.y_cols)?;
        return Ok((xt.columns(&x_idx)?, yt.columns(&y_idx)?));
    }
    if is_npz(src.x) && src.y_cols.is_none() {
        let (x_key, y_key) = (src.x_key.unwrap_or("x"), src.y_key.unwrap_or("y"));
        let (xt, _) = read_table_keyed(src.x, Some(x_key), "x")?;
        let x_idx = indices(&xt, src.x_cols)?;
        if x_key == y_key {
            return split_table(&xt, &x_idx, &indices(&xt, None)?);
        }
        let (yt, _) = read_table_keyed(src.x, Some(y_key), "y")?;
        return Ok((xt.columns(&x_idx)?, yt));
    }
    let spec = src.y_cols.ok_or_else(|| Error::InvalidParameter {
        op: "mi estimate",
        name: "y",
        value: src.x.display().to_string(),
        reason: "no Y: give --y FILE, or --y-cols to take Y from the columns of the --x file",
    })?;
    let (table, _) = read_table_keyed(src.x, src.x_key, "x")?;
    let y_idx = table.resolve(spec)?;
    let x_idx = match src.x_cols {
        Some(s) => table.resolve(s)?,
        None => {
            let mut in_y = vec![false; table.dim()];
            for &k in &y_idx {
                in_y[k] = true;
            }
            (0..table.dim()).filter(|&k| !in_y[k]).collect()
        }
    };
    if x_idx.is_empty() {
        return Err(Error::Io {
            path: src.x.display().to_string(),
            detail: "no columns left for X: give --x-cols".into(),
        });
    }
    split_table(&table, &x_idx, &y_idx)
}
