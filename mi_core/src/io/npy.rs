//! A strict reader for NumPy `.npy` files holding f32 or f64 arrays (and a writer over Candle's).
//!
//! Scores saved by any framework (`np.save("scores.npy", s)`) load as a tensor on the CPU.
//!
//! Why our own reader rather than Candle's `Tensor::read_npy`: a user's file is untrusted input,
//! and this one (1) reads and checks the magic string and the header *before* any data, so
//! `/dev/zero`, a huge or an unrelated file fails at once instead of being read into memory;
//! (2) checks that the file holds exactly the bytes the header promises, against the file size,
//! before allocating, so an empty, truncated or corrupt file is a clear error naming the file,
//! never a panic or a huge allocation; (3) reads what NumPy writes besides little-endian C order:
//! big-endian data and Fortran order (`np.asfortranarray`, MATLAB/R exports).
//!
//! [`read_npy`] reads floats only (a score matrix of integers is a mistake worth hearing about);
//! data tables ([`super::read_table`]) also take integer and boolean arrays, as f64.

use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use std::io::Read;
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";
/// NumPy itself refuses headers over 10 000 bytes by default; anything near this is not a header.
const MAX_HEADER: usize = 1 << 20;
/// NumPy 2's limit on the number of dimensions.
const MAX_DIMS: usize = 64;

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Reads an f32 or f64 `.npy` file into a CPU tensor of the same dtype and shape.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    read_npy_file(path.as_ref(), false, "f32/f64")
}

/// Reads a `.npy` file of floats, integers or booleans (integers and booleans as f64) into a CPU
/// tensor: the reader of data tables.
pub(crate) fn read_npy_numeric(path: &Path) -> Result<Tensor> {
    read_npy_file(path, true, "numeric")
}

fn read_npy_file(path: &Path, numeric: bool, what: &str) -> Result<Tensor> {
    let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    // The size of a regular file, checked against the header before the data is read.
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    read_from(file, size, numeric)
        .map_err(|detail| bad(path, format!("not a valid {what} .npy file: {detail}")))
}

/// The element type of the data.
#[derive(Clone, Copy, PartialEq)]
enum Elem {
    F32,
    F64,
    /// An integer of this many bytes (1, 2, 4, 8), signed or not; read as f64.
    Int {
        signed: bool,
    },
    /// NumPy's `bool` (one byte, 0 or 1); read as f64.
    Bool,
}

/// What the header says about the data that follows it.
struct Header {
    elem: Elem,
    width: usize,
    big_endian: bool,
    fortran: bool,
    shape: Vec<usize>,
    count: usize,
}

pub(super) fn read_exact_or(
    r: &mut impl Read,
    buf: &mut [u8],
    what: &str,
) -> std::result::Result<usize, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read the {what}: {e}")),
        }
    }
    Ok(got)
}

/// Reads `.npy` bytes from `r` (`size`: the byte count, when known, checked against the header
/// before the data are read; `numeric`: integers and booleans too, as f64); the error is a bare
/// description, for the caller to attach a path.
pub(crate) fn read_npy_from(
    r: impl Read,
    size: Option<u64>,
    numeric: bool,
) -> std::result::Result<Tensor, String> {
    read_from(r, size, numeric)
}

/// Reads a `.npy` prefix and header from `r` — magic, version (1, 2 or 3), header length — and
/// returns the header text and the byte offset where the data start. `size` (the byte count,
/// when known) is checked against the header length before the header is read.
pub(super) fn read_header(
    r: &mut impl Read,
    size: Option<u64>,
) -> std::result::Result<(String, usize), String> {
    // Magic (6), version (2), header length (2 or 4).
    let mut prefix = [0u8; 10];
    let got = read_exact_or(r, &mut prefix, "header")?;
    if got == 0 {
        return Err("the file is empty".into());
    }
    if got < prefix.len() || &prefix[..6] != MAGIC {
        return Err("missing the \\x93NUMPY magic string".into());
    }
    let (header_len, header_start) = match prefix[6] {
        1 => (u16::from_le_bytes([prefix[8], prefix[9]]) as usize, 10usize),
        2 | 3 => {
            let mut more = [0u8; 2];
            if read_exact_or(r, &mut more, "header")? < 2 {
                return Err("truncated header".into());
            }
            let n = u32::from_le_bytes([prefix[8], prefix[9], more[0], more[1]]) as usize;
            (n, 12)
        }
        v => return Err(format!("unsupported format version {v}")),
    };
    if header_len > MAX_HEADER {
        return Err(format!("a header of {header_len} bytes is not plausible"));
    }
    if size.is_some_and(|s| s < (header_start + header_len) as u64) {
        return Err("truncated header".into());
    }
    let mut text = vec![0u8; header_len];
    if read_exact_or(r, &mut text, "header")? < header_len {
        return Err("truncated header".into());
    }
    let text = String::from_utf8(text).map_err(|_| "the header is not text")?;
    Ok((text, header_start + header_len))
}

fn read_from(
    mut r: impl Read,
    size: Option<u64>,
    numeric: bool,
) -> std::result::Result<Tensor, String> {
    let (text, data_start) = read_header(&mut r, size)?;
    let header = parse_header(&text, numeric)?;
    let expected = header
        .count
        .checked_mul(header.width)
        .ok_or("the shape overflows")?;
    let promise = |found: String| {
        format!(
            "the header promises {} values of {} bytes (shape {:?}) but {found} data bytes follow",
            header.count, header.width, header.shape
        )
    };
    if let Some(size) = size {
        let data_bytes = size - data_start as u64;
        if data_bytes != expected as u64 {
            return Err(promise(data_bytes.to_string()));
        }
    }
    // The data as read, the values as a tensor (f64 for integers and booleans) and, for Fortran
    // order, their C-order copy: checked against the memory cap before any of them exists.
    let out_width = match header.elem {
        Elem::Int { .. } | Elem::Bool => 8,
        Elem::F32 | Elem::F64 => header.width,
    };
    let copies = if header.fortran { 2 } else { 1 };
    crate::limits::memory_fits(crate::limits::sum_bytes(&[
        Some(expected as u64),
        crate::limits::bytes_of(&[header.count, out_width, copies]),
    ]))
    .map_err(|why| format!("an array of shape {:?} {why}", header.shape))?;
    // Not a regular file (a pipe, a device): read at most one byte more than promised, growing
    // the buffer only as bytes arrive.
    let mut data = Vec::new();
    r.take(expected as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read the data: {e}"))?;
    if data.len() != expected {
        let found = if data.len() > expected {
            "more".to_string()
        } else {
            data.len().to_string()
        };
        return Err(promise(found));
    }
    to_tensor(&header, &data)
}

fn parse_header(header: &str, numeric: bool) -> std::result::Result<Header, String> {
    let descr = field(header, "descr").ok_or("no 'descr' in the header")?;
    let fortran = match field(header, "fortran_order").ok_or("no 'fortran_order' in the header")? {
        "True" => true,
        "False" => false,
        other => {
            return Err(format!(
                "bad fortran_order {}",
                crate::limits::excerpt(other)
            ))
        }
    };
    let shape = parse_shape(header)?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let shown = crate::limits::excerpt(descr);
    let (elem, width, big_endian) = match parse_descr(descr) {
        Some(e @ (Elem::F32 | Elem::F64, _, _)) => e,
        Some(e) if numeric => e,
        _ if numeric => {
            return Err(format!(
                "dtype {shown} is not supported (save as a float, integer or bool array)"
            ))
        }
        _ => {
            return Err(format!(
                "dtype {shown} is not supported (save as float32 or float64)"
            ))
        }
    };
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("the shape overflows")?;
    Ok(Header {
        elem,
        width,
        big_endian,
        fortran,
        shape,
        count,
    })
}

/// (element, bytes, big-endian) of a NumPy type string (`<f8`, `>i4`, `|u1`, `|b1`, …).
fn parse_descr(descr: &str) -> Option<(Elem, usize, bool)> {
    let (order, code) = descr.split_at_checked(1)?;
    let big_endian = match order {
        "<" | "=" | "|" => false,
        ">" => true,
        _ => return None,
    };
    let (elem, width) = match code {
        "f4" => (Elem::F32, 4),
        "f8" => (Elem::F64, 8),
        "b1" => (Elem::Bool, 1),
        _ => {
            let (kind, width) = code.split_at_checked(1)?;
            let width: usize = width.parse().ok()?;
            let signed = match kind {
                "i" => true,
                "u" => false,
                _ => return None,
            };
            if !matches!(width, 1 | 2 | 4 | 8) {
                return None;
            }
            (Elem::Int { signed }, width)
        }
    };
    Some((elem, width, big_endian))
}

/// An integer of `c.len()` bytes as f64 (exact up to 2^53 in magnitude).
fn int_value(c: &[u8], signed: bool, big_endian: bool) -> f64 {
    let mut b = [0u8; 8];
    let w = c.len();
    if big_endian {
        b[..w].copy_from_slice(c);
        b[..w].reverse();
    } else {
        b[..w].copy_from_slice(c);
    }
    let negative = signed && b[w - 1] & 0x80 != 0;
    if negative {
        b[w..].fill(0xff);
        i64::from_le_bytes(b) as f64
    } else {
        u64::from_le_bytes(b) as f64
    }
}

fn to_tensor(h: &Header, data: &[u8]) -> std::result::Result<Tensor, String> {
    let mut stored: Vec<usize> = h.shape.clone();
    if h.fortran {
        stored.reverse();
    }
    let tensor = if let Elem::Int { .. } | Elem::Bool = h.elem {
        let signed = matches!(h.elem, Elem::Int { signed: true });
        let v: Vec<f64> = data
            .chunks_exact(h.width)
            .map(|c| int_value(c, signed, h.big_endian))
            .collect();
        Tensor::from_vec(v, stored, &Device::Cpu)
    } else if h.elem == Elem::F32 {
        let v: Vec<f32> = data
            .chunks_exact(4)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3]];
                if h.big_endian {
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
                if h.big_endian {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                }
            })
            .collect();
        Tensor::from_vec(v, stored, &Device::Cpu)
    }
    .map_err(|e| e.to_string())?;
    if h.fortran && h.shape.len() > 1 {
        let rev: Vec<usize> = (0..h.shape.len()).rev().collect();
        return tensor
            .permute(rev)
            .and_then(|t| t.contiguous())
            .map_err(|e| e.to_string());
    }
    Ok(tensor)
}

/// The raw text of `'key': value` in the header dict (up to the next `,` or `}`).
pub(super) fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

pub(super) fn parse_shape(header: &str) -> std::result::Result<Vec<usize>, String> {
    let at = header.find("'shape'").ok_or("no 'shape' in the header")?;
    let rest = &header[at..];
    let open = rest.find('(').ok_or("bad shape")?;
    let close = rest.find(')').ok_or("bad shape")?;
    if close < open {
        return Err("bad shape".into());
    }
    let shape = rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape entry {:?}", crate::limits::excerpt(s)))
        })
        .collect::<std::result::Result<Vec<usize>, String>>()?;
    if shape.len() > MAX_DIMS {
        return Err(format!(
            "a shape of {} dimensions is not plausible (NumPy allows {MAX_DIMS})",
            shape.len()
        ));
    }
    Ok(shape)
}

/// Writes an f32 or f64 tensor as a little-endian, C-order `.npy` file (Candle's writer, format
/// version 1.0), refusing other dtypes, which [`read_npy`] would not read back.
pub fn write_npy(tensor: &Tensor, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if !matches!(tensor.dtype(), DType::F32 | DType::F64) {
        return Err(Error::DType {
            op: "write_npy",
            input: "tensor",
            dtype: tensor.dtype(),
        });
    }
    tensor
        .to_device(&Device::Cpu)
        .and_then(|t| t.contiguous())
        .and_then(|t| t.write_npy(path))
        .map_err(|e| bad(path, format!("cannot write: {e}")))
}
