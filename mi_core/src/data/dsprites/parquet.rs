//! dSprites from a parquet file in the schema of the Hugging Face copies (`eurecom-ds/dsprites`,
//! which mirrors TensorFlow Datasets' `dsprites`): one row per image, the image as a struct
//! column `image {bytes: PNG, path}` (a plain binary column is accepted too) and the factor
//! classes as integer columns [`LABEL_COLUMNS`] (0-based, upstream order). Other columns
//! (`value_*`) are not read: the factor values come from the index formula.
//!
//! The rows may come in any order: each row's grid index is computed from its labels and the
//! image is put at that index, so the result is the upstream order whatever the file's. The
//! labels must cover the first `n` grid indices exactly once (all 737,280 for the real file);
//! a repeated, missing or out-of-range label is an error naming the file and the row. PNGs are
//! decoded in parallel into packed bits (377 MB for the whole grid), with progress shown.

use super::factors::{Factors, IMAGE_PIXELS, IMAGE_SIDE};
use crate::error::Result;
use crate::io::{io_error, one_line, png_to_bits, read_parquet_frame, PackedBits};
use crate::progress::Progress;
use polars::prelude::{BinaryChunked, Column, DataFrame, DataType};
use std::path::Path;

/// The image column (a struct with a `bytes` field, or binary).
pub const IMAGE_COLUMN: &str = "image";
/// The label columns, in [`super::FACTOR_NAMES`] order (shape, scale, orientation, x, y).
pub const LABEL_COLUMNS: [&str; 5] = [
    "label_shape",
    "label_scale",
    "label_orientation",
    "label_x_position",
    "label_y_position",
];

/// Reads the images of the dSprites parquet file at `path` in grid order (the file holds the
/// first `n` images of the grid, all 737,280 for the real one; the caller checks `n`).
pub(super) fn read_images(path: &Path) -> Result<PackedBits> {
    let df = read_parquet_frame(path)?;
    let n = df.height();
    if n == 0 {
        return Err(io_error(path, "holds no image"));
    }
    let slot = grid_slots(&df, path)?;
    let pngs = png_column(&df, path)?;
    let nbytes = IMAGE_PIXELS / 8;
    let mut bits = Vec::new();
    bits.try_reserve_exact(n * nbytes)
        .map_err(|e| io_error(path, format!("cannot allocate {} bytes: {e}", n * nbytes)))?;
    bits.resize(n * nbytes, 0u8);
    decode_rows(&pngs, &mut bits, path)?;
    permute_blocks(&mut bits, nbytes, slot);
    Ok(PackedBits {
        count: n,
        item_len: IMAGE_PIXELS,
        bits,
    })
}

/// The grid index of every row, from its labels; they must be `0..n` in some order.
fn grid_slots(df: &DataFrame, path: &Path) -> Result<Vec<usize>> {
    let n = df.height();
    let labels = LABEL_COLUMNS
        .iter()
        .map(|&name| label_column(df, name, path))
        .collect::<Result<Vec<_>>>()?;
    let mut slot = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    for row in 0..n {
        let mut classes = [0usize; 5];
        for (c, col) in classes.iter_mut().zip(&labels) {
            *c = col[row];
        }
        let idx = Factors::from_classes(classes)
            .map_err(|e| io_error(path, format!("row {row}: {e}")))?
            .index();
        match seen.get_mut(idx) {
            Some(s) if !*s => *s = true,
            Some(_) => {
                return Err(io_error(
                    path,
                    format!(
                        "row {row} repeats the factors of grid index {idx} (classes {classes:?})"
                    ),
                ))
            }
            None => {
                return Err(io_error(
                    path,
                    format!(
                        "row {row} is grid index {idx} (classes {classes:?}), but the file \
                         holds {n} rows: a file must hold the first n images of the grid"
                    ),
                ))
            }
        }
        slot.push(idx);
    }
    Ok(slot)
}

/// An integer label column as class indices (no nulls, none negative).
fn label_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<usize>> {
    let col = df.column(name).map_err(|_| {
        io_error(
            path,
            format!(
                "no column `{name}`; a dSprites parquet file needs {} and `{IMAGE_COLUMN}` \
                 (columns found: {})",
                LABEL_COLUMNS.join(", "),
                column_list(df)
            ),
        )
    })?;
    let bad = |detail: String| io_error(path, format!("column `{name}`: {detail}"));
    if !col.dtype().is_integer() {
        return Err(bad(format!("{} values, expected integers", col.dtype())));
    }
    let ints = col.cast(&DataType::Int64).map_err(|e| bad(one_line(&e)))?;
    let ints = ints.i64().map_err(|e| bad(one_line(&e)))?;
    ints.iter()
        .enumerate()
        .map(|(row, v)| match v {
            Some(v) if v >= 0 => Ok(v as usize),
            Some(v) => Err(bad(format!(
                "row {row} holds {v}, a class index cannot be negative"
            ))),
            None => Err(bad(format!("row {row} is null"))),
        })
        .collect()
}

fn column_list(df: &DataFrame) -> String {
    df.columns()
        .iter()
        .map(|c| format!("{} ({})", c.name(), c.dtype()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The PNG bytes: the `bytes` field of the struct column `image`, or `image` itself if binary.
fn png_column(df: &DataFrame, path: &Path) -> Result<BinaryChunked> {
    let col: &Column = df.column(IMAGE_COLUMN).map_err(|_| {
        io_error(
            path,
            format!(
                "no column `{IMAGE_COLUMN}` (columns found: {})",
                column_list(df)
            ),
        )
    })?;
    let bad = |detail: String| io_error(path, format!("column `{IMAGE_COLUMN}`: {detail}"));
    let series = match col.dtype() {
        DataType::Struct(_) => col
            .struct_()
            .and_then(|s| s.field_by_name("bytes"))
            .map_err(|e| bad(format!("no `bytes` field ({})", one_line(&e))))?,
        DataType::Binary => col.as_materialized_series().clone(),
        other => return Err(bad(format!("{other} values, expected PNG bytes"))),
    };
    series
        .binary()
        .cloned()
        .map_err(|e| bad(format!("`bytes` is not binary ({})", one_line(&e))))
}

/// Decodes row `r`'s PNG into block `r` of `bits`, rows split over the available cores.
fn decode_rows(pngs: &BinaryChunked, bits: &mut [u8], path: &Path) -> Result<()> {
    let n = pngs.len();
    let nbytes = IMAGE_PIXELS / 8;
    let progress = (n >= 1 << 16).then(|| Progress::new("decoding images", n as u64, "img"));
    let progress = progress.as_ref();
    let decode = |start: usize, out: &mut [u8]| -> Result<()> {
        for (k, block) in out.chunks_exact_mut(nbytes).enumerate() {
            let row = start + k;
            let png = pngs
                .get(row)
                .ok_or_else(|| io_error(path, format!("row {row}: the image is null")))?;
            png_to_bits(png, IMAGE_SIDE, block)
                .map_err(|e| io_error(path, format!("row {row}: {e}")))?;
            if (k + 1) % 4096 == 0 {
                progress.inspect(|p| p.inc(4096));
            }
        }
        progress.inspect(|p| p.inc((out.len() / nbytes % 4096) as u64));
        Ok(())
    };
    super::for_each_block(bits, nbytes, 1024, "dSprites decoding", decode)?;
    progress.inspect(|p| p.finish());
    Ok(())
}

/// Moves block `r` (of `size` bytes) to block `slot[r]`, in place (`slot` a permutation).
fn permute_blocks(bits: &mut [u8], size: usize, mut slot: Vec<usize>) {
    for r in 0..slot.len() {
        while slot[r] != r {
            let d = slot[r];
            let (lo, hi) = (r.min(d), r.max(d));
            let (a, b) = bits.split_at_mut(hi * size);
            a[lo * size..(lo + 1) * size].swap_with_slice(&mut b[..size]);
            slot.swap(r, d);
        }
    }
}
