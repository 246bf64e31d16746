//! A user's `.csv` data table, streamed: a header row of unique, non-empty names, then rows of
//! numbers (an empty field or `nan` is NaN), parsed straight into the row-major values.
//!
//! The file is untrusted input, so what the reader takes in is bounded ([`CsvCaps`], from
//! [`crate::limits`]): at most [`MAX_CSV_BYTES`] in all and [`MAX_CSV_LINE_BYTES`] per line,
//! and a NUL byte — which no CSV text holds, and which `/dev/zero` is made of — stops it at once.
//! The values are checked against the memory cap before they grow.

use super::columns::Table;
use crate::error::{Error, Result};
use crate::limits::{self, excerpt, MAX_CSV_BYTES, MAX_CSV_LINE_BYTES};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// How much the CSV reader takes in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CsvCaps {
    /// Most bytes in all.
    pub total: u64,
    /// Most bytes of one line (the newline not counted).
    pub line: u64,
}

impl Default for CsvCaps {
    fn default() -> Self {
        Self {
            total: MAX_CSV_BYTES,
            line: MAX_CSV_LINE_BYTES,
        }
    }
}

/// A reader that stops, with an error, at a NUL byte, a line longer than `caps.line` or more
/// than `caps.total` bytes.
struct Bounded<R> {
    inner: R,
    caps: CsvCaps,
    /// Bytes passed on so far.
    total: u64,
    /// Bytes of the current line so far.
    line_len: u64,
    /// The current line's number (1-based; line 1 is the header).
    line_no: u64,
}

fn refuse(detail: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, detail)
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (k, &b) in buf[..n].iter().enumerate() {
            match b {
                0 => {
                    return Err(refuse(format!(
                        "byte {} (line {}) is a NUL byte, which no CSV text holds (a binary \
                         file?)",
                        self.total + k as u64 + 1,
                        self.line_no
                    )))
                }
                b'\n' => {
                    self.line_len = 0;
                    self.line_no += 1;
                }
                _ => {
                    self.line_len += 1;
                    if self.line_len > self.caps.line {
                        let which = if self.line_no == 1 {
                            "the header line".to_string()
                        } else {
                            format!("line {}", self.line_no)
                        };
                        return Err(refuse(format!(
                            "{which} is longer than {}, more than a CSV row may hold",
                            limits::human_bytes(self.caps.line)
                        )));
                    }
                }
            }
        }
        self.total += n as u64;
        if self.total > self.caps.total {
            return Err(refuse(format!(
                "more than {}, the most a CSV table may hold (save the table as .npy or \
                 .parquet)",
                limits::human_bytes(self.caps.total)
            )));
        }
        Ok(n)
    }
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Reads the `.csv` table at `path`.
pub(super) fn read_csv(path: &Path) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    read_csv_from(file, CsvCaps::default()).map_err(|detail| bad(path, detail))
}

/// Refuses a header with an empty or a repeated name (the error says which, 1-based).
pub(super) fn check_names(names: &[String]) -> std::result::Result<(), String> {
    if names.iter().all(String::is_empty) {
        return Err("empty table: no header row".into());
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(format!(
                "column {} of the header has no name (a trailing comma, or an index column \
                 written without a name?): name every column",
                k + 1
            ));
        }
        if let Some(first) = seen.insert(name, k) {
            return Err(format!(
                "duplicate column name `{}` (columns {} and {}): names must be unique",
                excerpt(name),
                first + 1,
                k + 1
            ));
        }
    }
    Ok(())
}

/// Reads a CSV table from `r` within `caps`; the error is a bare description, for the caller to
/// attach a path.
pub(crate) fn read_csv_from(r: impl Read, caps: CsvCaps) -> std::result::Result<Table, String> {
    let bounded = Bounded {
        inner: r,
        caps,
        total: 0,
        line_len: 0,
        line_no: 1,
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bounded);
    let names: Vec<String> = csv
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    check_names(&names)?;
    let d = names.len();
    let mut values: Vec<f64> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut n = 0usize;
    while csv.read_record(&mut record).map_err(|e| e.to_string())? {
        n += 1;
        if record.len() != d {
            return Err(format!(
                "data row {n} (1-based, after the header) has {} fields, the header {d}",
                record.len()
            ));
        }
        if values.len() + d > values.capacity() {
            // The vector is about to grow (to about twice its length): check what it will hold.
            limits::memory_fits(limits::bytes_of(&[values.len() + d, 2, 8]))
                .map_err(|why| format!("a table of {n} rows and {d} columns {why}"))?;
        }
        for (k, field) in record.iter().enumerate() {
            let v = if field.is_empty() {
                f64::NAN
            } else {
                field.parse::<f64>().map_err(|_| {
                    format!(
                        "data row {n} (1-based, after the header), column `{}`: {:?} is not a \
                         number",
                        excerpt(&names[k]),
                        excerpt(field)
                    )
                })?
            };
            values.push(v);
        }
    }
    Ok(Table {
        names,
        n,
        values,
        skipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> std::result::Result<Table, String> {
        read_csv_from(text, CsvCaps::default())
    }

    #[test]
    fn reads_numbers_nan_and_blank_lines() -> std::result::Result<(), String> {
        let t = read(b"a, b\n1,2\n\n3, nan\n,4\n")?;
        assert_eq!((t.names.clone(), t.n), (vec!["a".into(), "b".into()], 3));
        assert_eq!(&t.values[..3], &[1.0, 2.0, 3.0]);
        assert!(t.values[3].is_nan() && t.values[4].is_nan());
        assert_eq!(t.values[5], 4.0);
        Ok(())
    }

    #[test]
    fn refuses_what_cannot_be_a_csv_table() {
        let err = |text: &[u8]| read(text).expect_err("an error");
        assert!(err(b"a,b\n1,\0\n").contains("NUL byte"));
        assert!(err(b"").contains("empty table"));
        assert!(err(b"a,b,\n1,2,\n").contains("column 3 of the header has no name"));
        assert!(err(b"a,b,a\n1,2,3\n").contains("duplicate column name `a` (columns 1 and 3)"));
        assert!(err(b"a,b\n1,2\n3\n").contains("data row 2 (1-based, after the header) has 1"));
        let e = err(b"a,b\n1,2\n3,x\n");
        assert!(
            e.contains("data row 2 (1-based") && e.contains("`b`"),
            "{e}"
        );
        // The caps: one line, and the whole input.
        let caps = CsvCaps {
            total: 1 << 20,
            line: 16,
        };
        let e = read_csv_from(&b"abcdefghijklmnopqrstuvwxyz\n1\n"[..], caps).expect_err("long");
        assert!(e.contains("the header line is longer than 16 bytes"), "{e}");
        let e = read_csv_from(&b"a\n1\n22222222222222222222\n"[..], caps).expect_err("long");
        assert!(e.contains("line 3 is longer"), "{e}");
        let caps = CsvCaps {
            total: 64,
            line: 16,
        };
        let many = "a\n".to_string() + &"1\n".repeat(100);
        let e = read_csv_from(many.as_bytes(), caps).expect_err("total");
        assert!(e.contains("more than 64 bytes"), "{e}");
        // A huge field is echoed short.
        let huge = format!("a\n{}\n", "y".repeat(10_000));
        let e = err(huge.as_bytes());
        assert!(e.len() < 400, "{e}");
    }
}
