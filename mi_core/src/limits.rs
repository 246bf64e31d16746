//! What one request may take, in one place: the memory cap that every allocation sized by user
//! input (a `.npy` header's shape, `--n`, `--hidden`, a table's width) is checked against
//! *before* it is made, the caps of the CSV reader, and how much of a user's input an error
//! message echoes.
//!
//! An allocation the machine cannot hold aborts the process (Rust's allocation-failure handler
//! prints one line and aborts; `Vec::with_capacity` of an overflowing size panics), so a request
//! is sized first with checked arithmetic ([`bytes_of`]) and refused with an error when it needs
//! more than [`memory_cap`].

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// The share of physical memory one request may claim: numerator, denominator (3/4).
pub const MEMORY_SHARE: (u64, u64) = (3, 4);
/// The physical memory assumed where `/proc/meminfo` cannot be read (not Linux): 16 GiB.
pub const FALLBACK_MEMORY_BYTES: u64 = 16 << 30;
/// Most bytes the CSV reader takes in from one file (4 GiB; a larger table belongs in `.npy`
/// or `.parquet`): a `.csv` that is `/dev/zero`, a FIFO or a runaway export stops here.
pub const MAX_CSV_BYTES: u64 = 4 << 30;
/// Longest CSV line, header included (32 MiB, ~ a million columns of 30 characters).
pub const MAX_CSV_LINE_BYTES: u64 = 32 << 20;
/// Most characters of a user's input (a column name, a field, a spec) an error message echoes.
pub const MAX_ECHO_CHARS: usize = 120;

/// Physical memory in bytes: `MemTotal` of `/proc/meminfo`, else [`FALLBACK_MEMORY_BYTES`].
pub fn physical_memory() -> u64 {
    static TOTAL: OnceLock<u64> = OnceLock::new();
    *TOTAL.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_total(&text))
            .unwrap_or(FALLBACK_MEMORY_BYTES)
    })
}

/// The CPU's model name (`lscpu`'s "Model name") from `/proc/cpuinfo`, else "unknown CPU":
/// printed beside every timing, since only timings on one CPU compare.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `MemTotal: N kB` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024).filter(|&b| b > 0)
}

/// The most bytes one request may allocate: [`MEMORY_SHARE`] of [`physical_memory`].
pub fn memory_cap() -> u64 {
    let (num, den) = MEMORY_SHARE;
    physical_memory() / den * num
}

/// The product of `factors` (counts, then bytes per item) as bytes; `None` if it overflows.
pub fn bytes_of(factors: &[usize]) -> Option<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(u64::try_from(f).ok()?))
}

/// The sum of byte counts; `None` if any is `None` or the sum overflows.
pub fn sum_bytes(parts: &[Option<u64>]) -> Option<u64> {
    parts.iter().try_fold(0u64, |acc, &p| acc.checked_add(p?))
}

/// A byte count for people: `1.5 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `Ok` when `bytes` (`None`: the count overflowed) fits [`memory_cap`]; else a description of
/// the shortfall, for a reader to attach to its file's name.
pub fn memory_fits(bytes: Option<u64>) -> std::result::Result<(), String> {
    let cap = memory_cap();
    let (num, den) = MEMORY_SHARE;
    let need = match bytes {
        Some(b) if b <= cap => return Ok(()),
        Some(b) => human_bytes(b),
        None => "more than 2^64 bytes".to_string(),
    };
    Err(format!(
        "needs {need}, more than this machine can hold (the cap is {}, {num}/{den} of its {} \
         of memory)",
        human_bytes(cap),
        human_bytes(physical_memory())
    ))
}

/// [`memory_fits`] as the error of parameter `name` = `value` of `op`.
pub fn check_memory(
    op: &'static str,
    name: &'static str,
    value: impl std::fmt::Display,
    bytes: Option<u64>,
) -> Result<()> {
    memory_fits(bytes).map_err(|why| Error::InvalidParameter {
        op,
        name,
        value: format!("{value} ({why})"),
        reason: "too large for this machine's memory",
    })
}

/// A user's input as an error message shows it: at most [`MAX_ECHO_CHARS`] characters (then
/// `… (N characters)`), control characters escaped, so that a 20 MB header or a name holding
/// a newline stays one short line.
pub fn excerpt(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_ECHO_CHARS {
            let total = text.chars().count();
            out.push_str(&format!("… ({total} characters)"));
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_products_against_the_cap() {
        assert_eq!(bytes_of(&[3, 4, 8]), Some(96));
        assert_eq!(bytes_of(&[usize::MAX, 2]), None);
        assert_eq!(sum_bytes(&[Some(1), Some(2)]), Some(3));
        assert_eq!(sum_bytes(&[Some(1), None]), None);
        assert_eq!(sum_bytes(&[Some(u64::MAX), Some(1)]), None);
        assert!(memory_fits(Some(1 << 20)).is_ok());
        assert!(memory_fits(Some(memory_cap())).is_ok());
        let e = memory_fits(Some(memory_cap() + 1)).expect_err("over the cap");
        assert!(e.contains("more than this machine can hold"), "{e}");
        assert!(memory_fits(None).is_err());
        assert!(memory_cap() <= physical_memory() && memory_cap() > 0);
        assert_eq!(
            mem_total("MemTotal:       24576 kB\nMemFree: 1 kB\n"),
            Some(24576 << 10)
        );
        assert_eq!(mem_total("nothing"), None);
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("a,b"), "a,b");
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let long = "x".repeat(20_000_000);
        let e = excerpt(&long);
        assert!(e.len() < 200 && e.ends_with("(20000000 characters)"), "{e}");
    }
}
