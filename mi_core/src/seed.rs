//! Seeds derived from names: one FNV-1a hash, so a named thing (a network parameter, a run of a
//! sweep) draws the same random stream on every machine and in every release — Rust's
//! `DefaultHasher` promises neither.

/// The 64-bit FNV-1a hash of `name`.
pub(crate) fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_reference_values() {
        // The published FNV-1a 64-bit test vectors.
        assert_eq!(super::name_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::name_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::name_hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
