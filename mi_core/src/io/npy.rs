//! A strict reader (and writer) for NumPy `.npy` files holding f32 or f64 arrays.
//!
//! Scores saved by any framework (`np.save("scores.npy", s)`) load as a tensor on the CPU.
//! The reader checks the whole header and that the file holds exactly the bytes the header
//! promises *before* allocating, so an empty, truncated or corrupt file is a clear error, never
//! a panic or a huge allocation. Little- and big-endian, C and Fortran order are supported.

use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Reads an f32 or f64 `.npy` file into a CPU tensor of the same dtype and shape.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    parse(&bytes).map_err(|detail| bad(path, format!("not a valid f32/f64 .npy file: {detail}")))
}

fn parse(bytes: &[u8]) -> std::result::Result<Tensor, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("missing the \\x93NUMPY magic string".into());
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header".into());
            }
            let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
            (n, 12)
        }
        v => return Err(format!("unsupported format version {v}")),
    };
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or("truncated header")?;
    let header = std::str::from_utf8(&bytes[header_start..data_start])
        .map_err(|_| "the header is not text")?;
    let descr = field(header, "descr").ok_or("no 'descr' in the header")?;
    let fortran = match field(header, "fortran_order").ok_or("no 'fortran_order' in the header")? {
        "True" => true,
        "False" => false,
        other => return Err(format!("bad fortran_order {other}")),
    };
    let shape = parse_shape(header)?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let (dtype, width, big_endian) = match descr {
        "<f4" | "=f4" => (DType::F32, 4, false),
        ">f4" => (DType::F32, 4, true),
        "<f8" | "=f8" => (DType::F64, 8, false),
        ">f8" => (DType::F64, 8, true),
        other => {
            return Err(format!(
                "dtype {other} is not supported (save as float32 or float64)"
            ))
        }
    };
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("the shape overflows")?;
    let data = &bytes[data_start..];
    if Some(data.len()) != count.checked_mul(width) {
        return Err(format!(
            "the header promises {count} values of {width} bytes (shape {shape:?}) but {} data bytes follow",
            data.len()
        ));
    }
    let mut stored: Vec<usize> = shape.clone();
    if fortran {
        stored.reverse();
    }
    let tensor = if dtype == DType::F32 {
        let v: Vec<f32> = data
            .chunks_exact(4)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3]];
                if big_endian {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                }
            })
            .collect();
        Tensor::from_vec(v, stored, &Device::Cpu)
    } else {
        let v: Vec<f64> = data
            .chunks_exact(8)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                if big_endian {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                }
            })
            .collect();
        Tensor::from_vec(v, stored, &Device::Cpu)
    }
    .map_err(|e| e.to_string())?;
    if fortran && shape.len() > 1 {
        let rev: Vec<usize> = (0..shape.len()).rev().collect();
        return tensor
            .permute(rev)
            .and_then(|t| t.contiguous())
            .map_err(|e| e.to_string());
    }
    Ok(tensor)
}

/// The raw text of `'key': value` in the header dict (up to the next `,` or `}`).
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

fn parse_shape(header: &str) -> std::result::Result<Vec<usize>, String> {
    let at = header.find("'shape'").ok_or("no 'shape' in the header")?;
    let rest = &header[at..];
    let open = rest.find('(').ok_or("bad shape")?;
    let close = rest.find(')').ok_or("bad shape")?;
    if close < open {
        return Err("bad shape".into());
    }
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape entry {s:?}"))
        })
        .collect()
}

/// Writes an f32 or f64 tensor as a little-endian, C-order `.npy` file (format version 1.0).
pub fn write_npy(tensor: &Tensor, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let t = tensor.to_device(&Device::Cpu)?.flatten_all()?;
    let (descr, data): (&str, Vec<u8>) = match t.dtype() {
        DType::F32 => (
            "<f4",
            t.to_vec1::<f32>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::F64 => (
            "<f8",
            t.to_vec1::<f64>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        other => {
            return Err(Error::DType {
                op: "write_npy",
                input: "tensor",
                dtype: other,
            })
        }
    };
    let dims = tensor.dims();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so that magic + version + length + header is a multiple of 64, ending in '\n'.
    let total = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).map_err(|e| bad(path, format!("cannot write: {e}")))
}
