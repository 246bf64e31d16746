//! A bounded fuzz of the data-table readers (`.npy`, `.npz`, `.csv`): arbitrary bytes and
//! valid files with bytes overwritten, cut short or both. Every input must give a table whose
//! values match its shape, or an error of one line — never a panic (proptest reports one as a
//! failure), a hang or a huge allocation. A few hundred cases run with the suite (seconds);
//! `fuzz_readers_long` (ignored) runs many more: `cargo test --lib fuzz_readers_long -- --ignored`.

use super::csv_input::{read_csv_from, CsvCaps};
use super::fixture::{npy_bytes, npz_bytes, temp_dir, write_file};
use super::npy::read_npy_from;
use super::read_table;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases per property in the normal suite.
const QUICK_CASES: u32 = 200;
/// Cases per property in the ignored long run.
const LONG_CASES: u32 = 20_000;
/// Longest error a reader may give: the file name, a few numbers and short excerpts.
const MAX_ERROR_CHARS: usize = 3_000;

fn le_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Valid `.npy` files to mutate: f64 2-D, i4 1-D, big-endian f4, bool, Fortran order.
fn npy_seeds() -> Vec<Vec<u8>> {
    let ints: Vec<u8> = [-3i32, 0, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
    let big: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut fortran = npy_bytes("<f8", &[2, 2], &le_f64(&[1.0, 2.0, 3.0, 4.0]));
    if let Some(at) = fortran.windows(5).position(|w| w == b"False") {
        fortran[at..at + 5].copy_from_slice(b"True ");
    }
    vec![
        npy_bytes("<f8", &[3, 2], &le_f64(&[0.5, 1.0, -2.0, 3.0, 1e300, 0.0])),
        npy_bytes("<i4", &[3], &ints),
        npy_bytes(">f4", &[2], &big),
        npy_bytes("|b1", &[2, 2], &[1, 0, 0, 1]),
        fortran,
    ]
}

fn npz_seeds() -> Vec<Vec<u8>> {
    let x = npy_bytes("<f8", &[3, 2], &le_f64(&[0.5, 1.0, -2.0, 3.0, 4.0, 0.0]));
    let y = npy_bytes("<f4", &[3], &[0, 0, 128, 63].repeat(3));
    vec![
        npz_bytes(&[("x", x.clone()), ("y", y.clone())], true),
        npz_bytes(&[("x", x)], false),
    ]
}

fn csv_seeds() -> Vec<Vec<u8>> {
    [
        "a,b,c\n1,2,3\n4.5,,nan\n-1e300,inf,7\n",
        "\"x, y\",z\n1,2\n\n3,4\n",
        "a\r\nb\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// A seed, some bytes overwritten, then maybe cut short.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        prop::option::of(any::<usize>()),
    )
        .prop_map(move |(k, edits, cut)| {
            let mut b = seeds[k].clone();
            for (at, v) in edits {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] = v;
                }
            }
            if let Some(c) = cut {
                b.truncate(c % (b.len() + 1));
            }
            b
        })
}

/// CSV-like text: the characters that matter to a CSV reader, and a few that do not belong.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"ab1.-e,\n\r\" \tn\0\xff".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..200)
}

fn check_error(e: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.is_empty(), "an empty error");
    prop_assert!(!e.contains('\n'), "not one line: {e}");
    prop_assert!(e.chars().count() <= MAX_ERROR_CHARS, "too long: {e}");
    Ok(())
}

/// The `.npy` reader gives the same answer whether or not it knows the byte count (a file or a
/// stream), and an array never holds more elements than there are bytes.
fn check_npy(bytes: &[u8]) -> Result<(), TestCaseError> {
    let known = read_npy_from(bytes, Some(bytes.len() as u64), true);
    let stream = read_npy_from(bytes, None, true);
    match (known, stream) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a.dims(), b.dims());
            prop_assert!(a.elem_count() <= bytes.len());
        }
        (Err(a), Err(b)) => {
            check_error(&a)?;
            check_error(&b)?;
        }
        (a, b) => prop_assert!(false, "file and stream disagree: {a:?} / {b:?}"),
    }
    Ok(())
}

fn check_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    match read_csv_from(bytes, CsvCaps::default()) {
        Ok(t) => {
            prop_assert_eq!(t.values.len(), t.n * t.dim());
            prop_assert!(t.names.iter().all(|n| !n.is_empty()));
            let mut names = t.names.clone();
            names.sort();
            names.dedup();
            prop_assert_eq!(names.len(), t.dim());
        }
        Err(e) => check_error(&e)?,
    }
    Ok(())
}

/// Through the file reader (`read_table`), as `mi estimate` reads it.
fn check_file(bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| temp_dir("fuzz_readers"));
    let path = dir.join(format!("f{}.{ext}", NEXT.fetch_add(1, Ordering::Relaxed)));
    write_file(&path, bytes);
    let got = read_table(&path, None, "x");
    let _ = std::fs::remove_file(&path);
    match got {
        Ok(t) => {
            prop_assert_eq!(t.values.len(), t.n * t.dim());
            prop_assert!(t.n > 0 || ext == "csv", "an array table has rows");
        }
        Err(e) => {
            let e = e.to_string();
            check_error(&e)?;
            prop_assert!(e.contains(&format!(".{ext}")), "names the file: {e}");
        }
    }
    Ok(())
}

/// Runs `check` on `cases` inputs of `strategy` (a fresh runner per property); the failure, if
/// any, and how many inputs were checked.
fn property<S: Strategy>(
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> (Option<String>, usize) {
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let checked = AtomicUsize::new(0);
    let outcome = proptest::test_runner::TestRunner::new(config).run(&strategy, |v| {
        checked.fetch_add(1, Ordering::Relaxed);
        check(v)
    });
    (outcome.err().map(|e| e.to_string()), checked.into_inner())
}

fn run(cases: u32) {
    let bytes = || prop::collection::vec(any::<u8>(), 0..300);
    let outcomes = [
        (
            "npy, mutated",
            property(cases, mutated(npy_seeds()), |b| check_npy(&b)),
        ),
        (
            "npy, arbitrary",
            property(cases, bytes(), |b| check_npy(&b)),
        ),
        (
            "npy file, mutated",
            property(cases, mutated(npy_seeds()), |b| check_file(&b, "npy")),
        ),
        (
            "npz file, mutated",
            property(cases, mutated(npz_seeds()), |b| check_file(&b, "npz")),
        ),
        (
            "npz file, arbitrary",
            property(cases, bytes(), |b| check_file(&b, "npz")),
        ),
        (
            "csv, mutated",
            property(cases, mutated(csv_seeds()), |b| check_csv(&b)),
        ),
        ("csv, text", property(cases, csv_text(), |b| check_csv(&b))),
        (
            "csv, arbitrary",
            property(cases, bytes(), |b| check_csv(&b)),
        ),
        (
            "csv file, mutated",
            property(cases, mutated(csv_seeds()), |b| check_file(&b, "csv")),
        ),
    ];
    let mut failed = Vec::new();
    for (what, (failure, checked)) in outcomes {
        eprintln!("fuzz {what}: {checked} inputs");
        // Every property ran its cases (a failure stops early, after shrinking).
        assert!(
            checked >= cases as usize || failure.is_some(),
            "{what}: {checked} inputs"
        );
        if let Some(f) = failure {
            failed.push(format!("{what}: {f}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn fuzz_readers_quick() {
    run(QUICK_CASES);
}

#[test]
#[ignore = "long: many thousand cases per reader"]
fn fuzz_readers_long() {
    run(LONG_CASES);
}
