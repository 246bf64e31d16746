//! Data-table inputs read the same from every format: `.npz` members stored and deflated (as
//! `np.savez` / `np.savez_compressed` write them), integer and boolean arrays, real numpy and
//! pyarrow files (tests/data, written by tests/data/make_io_fixtures.py), parquet written by
//! polars; corrupt and truncated files are one clear error naming the file.

use super::fixture::{npy_bytes, npz_bytes, temp_dir, write_file};
use super::{read_npz, read_table};
use std::path::{Path, PathBuf};

fn le_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn err_of<T: std::fmt::Debug>(r: crate::Result<T>) -> String {
    let e = r.expect_err("an error").to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn npz_members_read_alike_stored_or_deflated_floats_ints_and_bools() {
    let dir = temp_dir("npz_deflate");
    let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.5 - 1.0).collect();
    let ints: Vec<u8> = [-3i32, 0, 7, i32::MIN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let big: Vec<u8> = [1u16, 300].iter().flat_map(|v| v.to_be_bytes()).collect();
    for deflate in [false, true] {
        let path = dir.join(format!("d_{deflate}.npz"));
        let members = [
            ("x", npy_bytes("<f8", &[6, 2], &le_f64(&x))),
            ("y", npy_bytes("<f4", &[3], &[0, 0, 128, 63].repeat(3))),
            ("k", npy_bytes("<i4", &[4], &ints)),
            ("u", npy_bytes(">u2", &[2], &big)),
            ("b", npy_bytes("|b1", &[3], &[1, 0, 1])),
        ];
        write_file(&path, &npz_bytes(&members, deflate));
        let t = read_table(&path, Some("x"), "x").expect("x");
        assert_eq!((t.n, t.dim(), t.values.clone()), (6, 2, x.clone()));
        let v = |key: &str| -> Vec<f64> {
            read_npz(&path, Some(key), key)
                .and_then(|t| Ok(t.to_vec1::<f64>()?))
                .expect(key)
        };
        assert_eq!(
            read_npz(&path, Some("y"), "y")
                .and_then(|t| Ok(t.to_vec1::<f32>()?))
                .expect("y"),
            vec![1.0; 3]
        );
        assert_eq!(v("k"), vec![-3.0, 0.0, 7.0, f64::from(i32::MIN)]);
        assert_eq!(v("u"), vec![1.0, 300.0]);
        assert_eq!(v("b"), vec![1.0, 0.0, 1.0]);
    }
    // Strings and objects are refused by name.
    let path = dir.join("str.npz");
    write_file(
        &path,
        &npz_bytes(&[("x", npy_bytes("<U3", &[1], &[0; 12]))], true),
    );
    let e = err_of(read_table(&path, None, "x"));
    assert!(e.contains("<U3") && e.contains("str.npz"), "{e}");
}

#[test]
fn corrupt_and_truncated_deflated_archives_are_one_clear_error() {
    let dir = temp_dir("npz_corrupt");
    let x: Vec<f64> = (0..4000).map(|i| (i as f64).sin()).collect();
    let full = npz_bytes(&[("x", npy_bytes("<f8", &[4000], &le_f64(&x)))], true);
    let cut = dir.join("cut.npz");
    write_file(&cut, &full[..full.len() / 2]);
    let e = err_of(read_table(&cut, None, "x"));
    assert!(e.contains("cut.npz"), "{e}");
    // Flipped bytes inside the deflate stream: a bad stream or a CRC mismatch, never a panic.
    for at in [60, full.len() / 3, full.len() / 2] {
        let mut bad = full.clone();
        for b in &mut bad[at..at + 16] {
            *b ^= 0x5a;
        }
        let p = dir.join(format!("flip_{at}.npz"));
        write_file(&p, &bad);
        let e = err_of(read_table(&p, None, "x"));
        assert!(e.contains(&format!("flip_{at}.npz")), "{e}");
    }
    // A member whose header promises more values than it holds.
    let p = dir.join("short.npz");
    write_file(
        &p,
        &npz_bytes(&[("x", npy_bytes("<f8", &[10], &le_f64(&[1.0; 4])))], true),
    );
    let e = err_of(read_table(&p, None, "x"));
    assert!(e.contains("short.npz") && e.contains("data bytes"), "{e}");
}

#[test]
fn numpy_savez_compressed_file_reads() {
    // tests/data/numpy_compressed.npz: see make_io_fixtures.py for the formulas.
    let path = fixture("numpy_compressed.npz");
    let i: Vec<f64> = (0..6).map(f64::from).collect();
    let x = read_table(&path, Some("x"), "x").expect("x");
    let want: Vec<f64> = i.iter().flat_map(|v| [v * 0.5, -v * 1.5]).collect();
    assert_eq!((x.n, x.dim(), x.values), (6, 2, want));
    let col = |key: &str| read_table(&path, Some(key), key).expect(key).values;
    assert_eq!(col("y"), i.iter().map(|v| v * 0.25).collect::<Vec<_>>());
    assert_eq!(col("k"), i.iter().map(|v| v - 3.0).collect::<Vec<_>>());
    assert_eq!(col("u"), i.iter().map(|v| v * 40.0).collect::<Vec<_>>());
    assert_eq!(col("b"), vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    // Big-endian, Fortran order: still row i = (i, 10 i).
    let f = read_table(&path, Some("f"), "f").expect("f").values;
    assert_eq!(f, i.iter().flat_map(|v| [*v, v * 10.0]).collect::<Vec<_>>());
}

#[cfg(feature = "parquet")]
mod parquet {
    use super::*;
    use polars::prelude::{df, DataFrame, ParquetCompression, ParquetWriter};

    fn write(df: &mut DataFrame, path: &Path, compression: ParquetCompression) {
        let file = std::fs::File::create(path).expect("create");
        ParquetWriter::new(file)
            .with_compression(compression)
            .finish(df)
            .expect("write parquet");
    }

    #[test]
    fn polars_written_parquet_reads_numeric_columns_nulls_as_nan() {
        let dir = temp_dir("parquet_polars");
        let mut df = df!(
            "a" => [0.5f64, 1.5, -2.0],
            "i" => [1i64, -2, 3],
            "f" => [Some(1.0f32), None, Some(3.0)],
            "ok" => [true, false, true],
            "name" => ["p", "q", "r"],
        )
        .expect("df");
        for (tag, c) in [
            ("snappy", ParquetCompression::Snappy),
            ("zstd", ParquetCompression::Zstd(None)),
            ("plain", ParquetCompression::Uncompressed),
        ] {
            let path = dir.join(format!("t_{tag}.parquet"));
            write(&mut df, &path, c);
            let t = read_table(&path, None, "x").expect(tag);
            assert_eq!(t.names, ["a", "i", "f", "ok"]);
            assert_eq!(t.skipped, [("name".to_string(), "str".to_string())]);
            let v = &t.values;
            assert_eq!(v[..4], [0.5, 1.0, 1.0, 1.0]);
            assert_eq!(v[4..6], [1.5, -2.0]);
            assert!(v[6].is_nan() && v[7] == 0.0);
            assert_eq!(v[8..], [-2.0, 3.0, 3.0, 1.0]);
            let e = err_of(t.resolve("a,name"));
            assert!(e.contains("name (str): not a numeric column"), "{e}");
            assert!(err_of(t.resolve("zz")).contains("unknown column"));
        }
    }

    #[test]
    fn pyarrow_written_parquet_reads_snappy_and_zstd() {
        // tests/data/pyarrow_*.parquet: see make_io_fixtures.py.
        for name in ["pyarrow_snappy.parquet", "pyarrow_zstd.parquet"] {
            let t = read_table(fixture(name), None, "x").expect(name);
            assert_eq!(t.names, ["a", "b", "c", "n"], "{name}");
            assert_eq!(t.skipped.len(), 1, "{name}");
            let col = |k: usize| -> Vec<f64> { (0..t.n).map(|i| t.values[i * 4 + k]).collect() };
            let i: Vec<f64> = (0..6).map(f64::from).collect();
            assert_eq!(col(0), i.iter().map(|v| v * 0.5).collect::<Vec<_>>());
            assert_eq!(col(1), i.iter().map(|v| v - 3.0).collect::<Vec<_>>());
            assert_eq!(col(2), vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
            let n = col(3);
            assert!(n[1].is_nan() && n[4].is_nan() && n[5] == 6.0, "{n:?}");
        }
    }

    #[test]
    fn corrupt_parquet_is_one_clear_error() {
        let dir = temp_dir("parquet_bad");
        let mut df = df!("a" => (0..500).map(f64::from).collect::<Vec<_>>()).expect("df");
        let good = dir.join("good.parquet");
        write(&mut df, &good, ParquetCompression::Snappy);
        let bytes = std::fs::read(&good).expect("read");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("magic", b"PAR1".to_vec()),
            ("cut", bytes[..bytes.len() / 2].to_vec()),
            ("tail", bytes[..bytes.len() - 3].to_vec()),
            ("text", b"a,b\n1,2\n".to_vec()),
        ];
        for (name, b) in cases {
            let p = dir.join(format!("{name}.parquet"));
            write_file(&p, &b);
            let e = err_of(read_table(&p, None, "x"));
            assert!(e.contains(&format!("{name}.parquet")), "{e}");
        }
        let mut s = df!("s" => ["a", "b"]).expect("df");
        let p = dir.join("strings.parquet");
        write(&mut s, &p, ParquetCompression::Snappy);
        assert!(err_of(read_table(&p, None, "x")).contains("no numeric column"));
    }
}
