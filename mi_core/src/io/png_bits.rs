//! One PNG image (in memory) as packed bits, for binary image datasets stored as PNG bytes
//! (e.g. the Hugging Face parquet copies of dSprites): every bit depth and colour type is read
//! (palette and sub-byte depths expanded, 16-bit reduced to 8), a pixel is set when any colour
//! sample is non-zero — so 0/1 and 0/255 images read alike — and bits are packed as in
//! [`PackedBits`](super::PackedBits).

use super::PackedBits;
use png::{ColorType, Decoder, Limits, Transformations};

/// The most a decoder may allocate for one small image (a corrupt header cannot ask for more).
const DECODE_LIMIT_BYTES: usize = 1 << 20;

/// Decodes `png` (a `side × side` image) into `out` (`side² / 8` bytes, row-major pixels, bit
/// `k` of byte `j` = pixel `8j + k`); an error saying what is wrong (not a PNG, truncated, another
/// size, a side not a multiple of 8).
pub fn png_to_bits(png: &[u8], side: usize, out: &mut [u8]) -> Result<(), String> {
    if side % 8 != 0 || out.len() != side * side / 8 {
        return Err(format!(
            "{side}×{side} pixels cannot be packed into {} bytes",
            out.len()
        ));
    }
    let mut decoder = Decoder::new_with_limits(
        std::io::Cursor::new(png),
        Limits {
            bytes: DECODE_LIMIT_BYTES,
        },
    );
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a readable PNG image: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG image is too large")?;
    let mut buf = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("not a readable PNG image: {e}"))?;
    if (frame.width as usize, frame.height as usize) != (side, side) {
        return Err(format!(
            "a {}×{} image, expected {side}×{side}",
            frame.width, frame.height
        ));
    }
    let samples = frame.color_type.samples();
    // Colour samples per pixel (an alpha sample is not looked at).
    let colour = match frame.color_type {
        ColorType::Grayscale | ColorType::GrayscaleAlpha => 1,
        ColorType::Rgb | ColorType::Rgba => 3,
        ColorType::Indexed => return Err("an indexed PNG was not expanded".into()),
    };
    let mut row = vec![0u8; side];
    for y in 0..side {
        let line = buf
            .get(y * frame.line_size..y * frame.line_size + side * samples)
            .ok_or("the PNG image holds fewer rows than its header says")?;
        for (x, r) in row.iter_mut().enumerate() {
            let px = &line[x * samples..x * samples + colour];
            *r = u8::from(px.iter().any(|&v| v > 0));
        }
        for (k, chunk) in row.chunks_exact(8).enumerate() {
            out[(y * side) / 8 + k] = PackedBits::pack8(chunk);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod fixture {
    use png::{BitDepth, ColorType, Encoder};

    /// `pixels` (row-major, `side²` values) as a PNG of the given colour type and depth; each
    /// value is written as is (8-bit) or as its lowest bits (sub-byte depths); RGB repeats it.
    pub fn encode(pixels: &[u8], side: usize, color: ColorType, depth: BitDepth) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, side as u32, side as u32);
        enc.set_color(color);
        enc.set_depth(depth);
        let mut w = enc.write_header().expect("png header");
        let data: Vec<u8> = match (color, depth) {
            (ColorType::Grayscale, BitDepth::One) => pixels
                .chunks(8)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(0u8, |b, (k, &v)| b | (u8::from(v > 0) << (7 - k)))
                })
                .collect(),
            (ColorType::Rgb, BitDepth::Eight) => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
            _ => pixels.to_vec(),
        };
        w.write_image_data(&data).expect("png data");
        w.finish().expect("png finish");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::encode;
    use super::*;
    use png::BitDepth;

    fn pattern(side: usize) -> Vec<u8> {
        (0..side * side)
            .map(|i| u8::from((i * 7 + i / side) % 5 < 2))
            .collect()
    }

    #[test]
    fn every_encoding_of_a_binary_image_packs_to_the_same_bits() {
        let side = 16;
        let p = pattern(side);
        let want: Vec<u8> = p.chunks_exact(8).map(PackedBits::pack8).collect();
        let scaled: Vec<u8> = p.iter().map(|&v| v * 255).collect();
        for png in [
            encode(&p, side, ColorType::Grayscale, BitDepth::Eight),
            encode(&scaled, side, ColorType::Grayscale, BitDepth::Eight),
            encode(&p, side, ColorType::Grayscale, BitDepth::One),
            encode(&scaled, side, ColorType::Rgb, BitDepth::Eight),
        ] {
            let mut out = vec![0u8; side * side / 8];
            png_to_bits(&png, side, &mut out).unwrap();
            assert_eq!(out, want);
        }
    }

    #[test]
    fn bad_bytes_wrong_size_and_truncation_are_errors() {
        let mut out = vec![0u8; 32];
        let e = png_to_bits(b"<html>", 16, &mut out).unwrap_err();
        assert!(e.contains("not a readable PNG"), "{e}");
        let png = encode(&pattern(8), 8, ColorType::Grayscale, BitDepth::Eight);
        let e = png_to_bits(&png, 16, &mut out).unwrap_err();
        assert!(e.contains("8×8") && e.contains("16×16"), "{e}");
        let png = encode(&pattern(16), 16, ColorType::Grayscale, BitDepth::Eight);
        let e = png_to_bits(&png[..png.len() / 2], 16, &mut out).unwrap_err();
        assert!(e.contains("PNG"), "{e}");
        let e = png_to_bits(&png, 16, &mut out[..3]).unwrap_err();
        assert!(e.contains("cannot be packed"), "{e}");
    }
}
