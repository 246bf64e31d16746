//! Streams one `uint8` array of an `.npz` archive (stored or deflate-compressed, as
//! `np.savez` / `np.savez_compressed` write it) into memory as packed bits: item `i` of shape
//! `[n, d1, d2, …]` becomes `d1·d2·…/8` bytes, bit `j % 8` of byte `j / 8` set when element `j` is
//! non-zero (binarised with `> 0`, so 0/1 and 0/255 images read alike).
//!
//! Only the named member is touched: other members (e.g. a pickled `metadata` object array) are
//! never read. The `.npy` header is checked before any data (magic, version, `|u1` dtype, C
//! order, trailing dimensions), and the member's uncompressed size must equal what the header
//! promises, so a truncated or corrupt file is a clear error naming the file, never a panic or a
//! huge allocation. 737,280 dSprites images of 64×64 take 377 MB this way instead of 3 GB as `u8`.

use super::npy::{field, parse_shape, read_exact_or, read_header};
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::io::Read;
use std::path::Path;

/// A `[count, item_dims…]` binary array packed to bits, item by item.
#[derive(Clone, Debug)]
pub struct PackedBits {
    /// Number of items (the leading dimension).
    pub count: usize,
    /// Elements per item (the product of the trailing dimensions; a multiple of 8).
    pub item_len: usize,
    /// `count · item_len / 8` bytes.
    pub bits: Vec<u8>,
}

impl PackedBits {
    /// Eight elements as one byte: bit `k` set when element `k` is non-zero (the packing of
    /// every item; [`PackedBits::unpack_into`] reverses it).
    pub fn pack8(elements: &[u8]) -> u8 {
        elements
            .iter()
            .take(8)
            .enumerate()
            .fold(0u8, |b, (k, &v)| b | (u8::from(v > 0) << k))
    }

    /// Writes item `i` as 0.0/1.0 into `out` (`item_len` values); `None` when out of range.
    pub fn unpack_into(&self, i: usize, out: &mut [f32]) -> Option<()> {
        let nbytes = self.item_len / 8;
        if i >= self.count || out.len() != self.item_len {
            return None;
        }
        let bytes = self.bits.get(i * nbytes..(i + 1) * nbytes)?;
        for (chunk, &b) in out.chunks_exact_mut(8).zip(bytes) {
            for (k, o) in chunk.iter_mut().enumerate() {
                *o = ((b >> k) & 1) as f32;
            }
        }
        Some(())
    }
}

fn bad(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// Reads member `key` (`key.npy`) of the `.npz` at `path`, a C-order `uint8` array whose trailing
/// dimensions must equal `item_dims` (their product a multiple of 8), as packed bits.
pub fn read_npz_u8_bits(path: &Path, key: &str, item_dims: &[usize]) -> Result<PackedBits> {
    let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(path, format!("not a valid .npz (zip) file: {e}")))?;
    let member = format!("{key}.npy");
    let entry = zip.by_name(&member).map_err(|e| {
        bad(
            path,
            format!("cannot open array `{key}` in the archive: {e}"),
        )
    })?;
    let size = entry.size();
    read_bits(entry, size, item_dims).map_err(|d| {
        bad(
            path,
            format!("array `{key}` is not a valid uint8 .npy: {d}"),
        )
    })
}

fn read_bits(
    mut r: impl Read,
    size: u64,
    item_dims: &[usize],
) -> std::result::Result<PackedBits, String> {
    let (text, data_start) = read_header(&mut r, Some(size))?;
    let header = text.as_str();
    let descr = field(header, "descr").ok_or("no 'descr' in the header")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if !matches!(descr, "|u1" | "<u1" | ">u1" | "=u1" | "|b1") {
        return Err(format!("dtype {descr} is not uint8"));
    }
    if field(header, "fortran_order") != Some("False") {
        return Err("only C-order arrays are read".into());
    }
    let shape = parse_shape(header)?;
    if shape.len() != item_dims.len() + 1 || shape[1..] != *item_dims {
        return Err(format!(
            "shape {shape:?} is not [n, {}]",
            item_dims
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let item_len: usize = item_dims.iter().product();
    if item_len == 0 || item_len % 8 != 0 {
        return Err(format!(
            "items of {item_len} elements cannot be packed to bytes"
        ));
    }
    let count = shape[0];
    let data = count.checked_mul(item_len).ok_or("the shape overflows")? as u64;
    let found = size.saturating_sub(data_start as u64);
    if found != data {
        return Err(format!(
            "the header promises {count} items ({data} bytes) but the member holds {found} data \
             bytes (truncated or corrupt file)"
        ));
    }
    let nbytes = item_len / 8;
    let mut bits = Vec::new();
    bits.try_reserve_exact(count * nbytes)
        .map_err(|e| format!("cannot allocate {} bytes: {e}", count * nbytes))?;
    let mut item = vec![0u8; item_len];
    let progress = (count >= 1 << 16).then(|| Progress::new("reading images", count as u64, "img"));
    for i in 0..count {
        let got = read_exact_or(&mut r, &mut item, "data")?;
        if got < item_len {
            return Err(format!(
                "the data end after {i} of {count} items (truncated or corrupt file)"
            ));
        }
        bits.extend(item.chunks_exact(8).map(PackedBits::pack8));
        if let Some(p) = &progress {
            if (i + 1) % 4096 == 0 || i + 1 == count {
                p.inc(((i % 4096) + 1) as u64);
            }
        }
    }
    if let Some(p) = &progress {
        p.finish();
    }
    Ok(PackedBits {
        count,
        item_len,
        bits,
    })
}

/// Test fixtures: `.npz` archives written member by member (deflate or stored), `.npy` bytes, and
/// files placed in a folder tree (e.g. a Hugging Face hub cache).
#[cfg(test)]
pub(crate) mod fixture {
    use std::io::Write;
    use std::path::Path;

    /// `.npy` (format 1.0) bytes of a C-order array with dtype `descr` and raw `data`.
    pub fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    /// An `.npz` archive of `members` (`name.npy` → bytes), deflated like `np.savez_compressed`.
    pub fn npz_bytes(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in members {
            zip.start_file(format!("{name}.npy"), opts).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Writes `bytes` to `path`, creating its parent folders.
    pub fn write_file(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[cfg(feature = "hub")]
    /// The names of every file under `dir` (recursively), relative to it, sorted.
    pub fn list_files(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    #[cfg(feature = "hub")]
    /// A symlink `link` → `target` where the platform has them (as the hub cache holds them),
    /// else a copy.
    pub fn link_or_copy(target: &Path, link: &Path) {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, link).unwrap();
        #[cfg(not(unix))]
        std::fs::copy(target, link).unwrap();
    }

    /// A fresh empty temporary folder named after `tag` and the process id.
    pub fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mi_core_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    fn images(n: usize) -> Vec<u8> {
        (0..n * 64)
            .map(|i| ((i * 7 + i / 13) % 3 == 0) as u8)
            .collect()
    }

    #[test]
    fn reads_compressed_and_stored_members_skipping_object_arrays() {
        let dir = temp_dir("npz_bits");
        let data = images(5);
        for deflate in [true, false] {
            let path = dir.join(format!("a_{deflate}.npz"));
            let npz = npz_bytes(
                &[
                    ("metadata", npy_bytes("|O", &[], b"\x80\x02}q\x00.")),
                    ("imgs", npy_bytes("|u1", &[5, 8, 8], &data)),
                ],
                deflate,
            );
            write_file(&path, &npz);
            let p = read_npz_u8_bits(&path, "imgs", &[8, 8]).unwrap();
            assert_eq!((p.count, p.item_len, p.bits.len()), (5, 64, 40));
            let mut out = vec![0.0f32; 64];
            for i in 0..5 {
                p.unpack_into(i, &mut out).unwrap();
                let want: Vec<f32> = data[i * 64..(i + 1) * 64]
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                assert_eq!(out, want);
            }
            assert!(p.unpack_into(5, &mut out).is_none());
        }
    }

    #[test]
    fn wrong_dtype_shape_truncation_and_missing_member_are_errors_naming_the_file() {
        let dir = temp_dir("npz_bits_bad");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "dtype",
                npy_bytes("<f4", &[1, 8, 8], &[0; 256]),
                "not uint8",
            ),
            (
                "shape",
                npy_bytes("|u1", &[1, 8, 4], &[0; 32]),
                "is not [n, 8, 8]",
            ),
            (
                "short",
                npy_bytes("|u1", &[3, 8, 8], &[0; 100]),
                "truncated",
            ),
        ];
        for (name, member, needle) in cases {
            let path = dir.join(format!("{name}.npz"));
            write_file(&path, &npz_bytes(&[("imgs", member)], true));
            let e = read_npz_u8_bits(&path, "imgs", &[8, 8])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(needle) && e.contains(&*path.display().to_string()),
                "{e}"
            );
        }
        let path = dir.join("other.npz");
        write_file(
            &path,
            &npz_bytes(&[("x", npy_bytes("|u1", &[1, 8, 8], &[0; 64]))], false),
        );
        let e = read_npz_u8_bits(&path, "imgs", &[8, 8])
            .unwrap_err()
            .to_string();
        assert!(e.contains("imgs"), "{e}");
        // A cut-off archive.
        let full = npz_bytes(&[("imgs", npy_bytes("|u1", &[4, 8, 8], &[1; 256]))], true);
        let path = dir.join("cut.npz");
        write_file(&path, &full[..full.len() / 2]);
        let e = read_npz_u8_bits(&path, "imgs", &[8, 8])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&*path.display().to_string()), "{e}");
        assert!(read_npz_u8_bits(&dir.join("absent.npz"), "imgs", &[8, 8]).is_err());
    }
}
