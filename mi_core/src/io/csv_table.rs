//! The experiments' CSV tables, through the `csv` crate (quoting where a field needs it):
//! numbers in full precision (Rust's shortest round-trip form), NaN as an empty field.

use crate::error::{Error, Result};

fn csv_err(op: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: format!("{op} (CSV table)"),
        detail: e.to_string(),
    }
}

/// A number as a CSV field: full precision, NaN as an empty field.
pub(crate) fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// Renders rows as CSV: a header line, then one line per row.
pub(crate) fn write_csv(
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<String> {
    const OP: &str = "write_csv";
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(header).map_err(|e| csv_err(OP, e))?;
    for r in rows {
        w.write_record(&r).map_err(|e| csv_err(OP, e))?;
    }
    let bytes = w.into_inner().map_err(|e| csv_err(OP, e))?;
    String::from_utf8(bytes).map_err(|e| csv_err(OP, e))
}

/// Reads a CSV table: the header and the rows, every row as wide as the header (fields trimmed,
/// blank lines skipped).
pub(crate) fn parse_csv(op: &'static str, text: &str) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| csv_err(op, e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(Error::InvalidParameter {
            op,
            name: "csv",
            value: String::new(),
            reason: "empty table",
        });
    }
    let mut rows = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| csv_err(op, e))?;
        let row: Vec<String> = rec.iter().map(str::to_string).collect();
        if row.len() != header.len() {
            return Err(Error::Shape {
                op,
                detail: format!(
                    "data row {} (1-based, after the header) has {} fields, the header {}",
                    k + 1,
                    row.len(),
                    header.len()
                ),
            });
        }
        rows.push(row);
    }
    Ok((header, rows))
}

/// The position of column `name` in a parsed CSV's header.
fn csv_index(op: &'static str, header: &[String], name: &'static str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::InvalidParameter {
            op,
            name: "csv",
            value: header.join(","),
            reason: "a required column is missing",
        })
}

/// Column `name` of a parsed CSV as numbers (an empty field is NaN).
pub(crate) fn csv_column(
    op: &'static str,
    header: &[String],
    rows: &[Vec<String>],
    name: &'static str,
) -> Result<Vec<f64>> {
    let k = csv_index(op, header, name)?;
    rows.iter()
        .map(|r| {
            if r[k].is_empty() {
                Ok(f64::NAN)
            } else {
                r[k].parse::<f64>().map_err(|_| Error::InvalidParameter {
                    op,
                    name,
                    value: r[k].clone(),
                    reason: "not a number",
                })
            }
        })
        .collect()
}

/// Column `name` of a parsed CSV as strings.
pub(crate) fn csv_strings(
    op: &'static str,
    header: &[String],
    rows: &[Vec<String>],
    name: &'static str,
) -> Result<Vec<String>> {
    let k = csv_index(op, header, name)?;
    Ok(rows.iter().map(|r| r[k].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_plain_fields_bare_and_quotes_the_rest() -> Result<()> {
        let text = write_csv(
            &["name", "value"],
            [
                vec!["alpha_0.5".to_string(), num(0.1 + 0.2)],
                vec!["a, b".to_string(), num(f64::NAN)],
            ]
            .into_iter(),
        )?;
        assert_eq!(
            text,
            "name,value\nalpha_0.5,0.30000000000000004\n\"a, b\",\n"
        );
        let (h, rows) = parse_csv("test", &text)?;
        assert_eq!(h, ["name", "value"]);
        assert_eq!(rows[1], ["a, b", ""]);
        assert!(csv_column("test", &h, &rows, "value")?[1].is_nan());
        assert!(parse_csv("test", "a,b\n1,2,3\n").is_err());
        assert!(parse_csv("test", "").is_err());
        Ok(())
    }
}
