//! A PNG encoded a row at a time, so that no whole bitmap has to be held to write one.
//!
//! The bytes are exactly those plotters' `BitMapBackend` writes (through `image`'s
//! defaults: the `png` crate's fast compression, fdeflate, with adaptive filtering): the
//! same filter choice per row, the same compressor fed the same slices, one IDAT chunk.
//! A chart drawn in bands (`band.rs`) is therefore the same file as one drawn whole; the
//! tests compare the two byte for byte.

use std::fs::File;
use std::io::{self, BufWriter, Cursor, Write};
use std::path::Path;

/// Bytes per pixel: 8-bit RGB.
pub(super) const PIXEL: usize = 3;

/// The filters a row can be written with, in the order adaptive filtering tries them (a
/// later one wins a tie, as in the `png` crate). PNG's filter type bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    Sub = 1,
    Up = 2,
    Avg = 3,
    Paeth = 4,
}

const ADAPTIVE: [Filter; 4] = [Filter::Sub, Filter::Up, Filter::Avg, Filter::Paeth];

/// The zlib stream of an RGB image fed one row at a time, top to bottom.
pub(super) struct Rows {
    /// The row above (zeros above the first).
    previous: Vec<u8>,
    /// The filter type byte, then the row filtered: what the compressor is fed per row.
    line: Vec<u8>,
    deflate: fdeflate::Compressor<Cursor<Vec<u8>>>,
    rows: usize,
}

impl Rows {
    pub fn new(width: u32) -> io::Result<Rows> {
        let stride = width as usize * PIXEL;
        Ok(Rows {
            previous: vec![0; stride],
            line: vec![0; stride + 1],
            deflate: fdeflate::Compressor::new(Cursor::new(Vec::new()))?,
            rows: 0,
        })
    }

    /// Filters and compresses the next row (`width` pixels).
    pub fn push(&mut self, row: &[u8]) -> io::Result<()> {
        debug_assert_eq!(row.len(), self.previous.len());
        let out = &mut self.line[1..];
        let mut best = (u64::MAX, Filter::Sub);
        for filter in ADAPTIVE {
            apply(filter, &self.previous, row, out);
            let sum = cost(out);
            if sum <= best.0 {
                best = (sum, filter);
            }
        }
        if best.1 != Filter::Paeth {
            apply(best.1, &self.previous, row, out);
        }
        self.line[0] = best.1 as u8;
        self.deflate.write_data(&self.line)?;
        self.previous.copy_from_slice(row);
        self.rows += 1;
        Ok(())
    }

    /// The compressed image, or `None` when storing the rows unfiltered would be smaller:
    /// the `png` crate then writes them stored (`Stored`), and so must we.
    pub fn finish(self) -> io::Result<Option<Vec<u8>>> {
        let compressed = self.deflate.finish()?.into_inner();
        let raw = self.line.len() * self.rows;
        Ok((compressed.len() <= fdeflate::StoredOnlyCompressor::<()>::compressed_size(raw))
            .then_some(compressed))
    }
}

/// The zlib stream of the rows stored uncompressed and unfiltered, the `png` crate's
/// fallback for an image that does not compress.
pub(super) struct Stored(fdeflate::StoredOnlyCompressor<Cursor<Vec<u8>>>);

impl Stored {
    pub fn new() -> io::Result<Stored> {
        Ok(Stored(fdeflate::StoredOnlyCompressor::new(Cursor::new(Vec::new()))?))
    }

    pub fn push(&mut self, row: &[u8]) -> io::Result<()> {
        self.0.write_data(&[0])?;
        self.0.write_data(row)
    }

    pub fn finish(self) -> io::Result<Vec<u8>> {
        Ok(self.0.finish()?.into_inner())
    }
}

/// Writes the PNG file of a `width` x `height` RGB image whose zlib stream is `zlib`.
pub(super) fn write_file(path: &Path, (width, height): (u32, u32), zlib: &[u8]) -> io::Result<()> {
    let mut file = BufWriter::new(File::create(path)?);
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::FilterType::Sub);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    // The `png` crate's largest IDAT chunk.
    for chunk in zlib.chunks((u32::MAX >> 1) as usize) {
        writer.write_chunk(png::chunk::IDAT, chunk).map_err(io::Error::other)?;
    }
    writer.finish().map_err(io::Error::other)?;
    file.flush()
}

/// `current` filtered with `filter` against `previous` (the row above) into `out`. Each
/// byte is predicted from the byte a pixel to its left (a), the one above (b) and the one
/// above that left one (c), all zero off the image.
fn apply(filter: Filter, previous: &[u8], current: &[u8], out: &mut [u8]) {
    let n = current.len();
    let first = PIXEL.min(n);
    let (out_first, out_rest) = out.split_at_mut(first);
    let (a, x) = (&current[..n - first], &current[first..]);
    let (c, b) = (&previous[..n - first], &previous[first..]);
    match filter {
        Filter::Sub => {
            out_first.copy_from_slice(&current[..first]);
            predict_each(out_rest, x, [a, b, c], |a, _, _| a);
        }
        Filter::Up => predict_each(out, current, [previous, previous, previous], |_, b, _| b),
        Filter::Avg => {
            predict_each(out_first, &current[..first], [&previous[..first]; 3], |_, b, _| b / 2);
            // The mean rounded down, without overflowing a byte.
            predict_each(out_rest, x, [a, b, c], |a, b, _| (a & b) + ((a ^ b) >> 1));
        }
        Filter::Paeth => {
            predict_each(out_first, &current[..first], [&previous[..first]; 3], |_, b, _| b);
            predict_each(out_rest, x, [a, b, c], paeth);
        }
    }
}

/// `out[i] = x[i] - predict(a[i], b[i], c[i])`, in fixed-size chunks so that it vectorizes.
#[inline(always)]
fn predict_each(out: &mut [u8], x: &[u8], [a, b, c]: [&[u8]; 3], predict: impl Fn(u8, u8, u8) -> u8) {
    const CHUNK: usize = 32;
    let mut outs = out.chunks_exact_mut(CHUNK);
    let (mut xs, mut as_, mut bs, mut cs) =
        (x.chunks_exact(CHUNK), a.chunks_exact(CHUNK), b.chunks_exact(CHUNK), c.chunks_exact(CHUNK));
    for ((((out, x), a), b), c) in (&mut outs).zip(&mut xs).zip(&mut as_).zip(&mut bs).zip(&mut cs) {
        for i in 0..CHUNK {
            out[i] = x[i].wrapping_sub(predict(a[i], b[i], c[i]));
        }
    }
    let rest = xs.remainder().iter().zip(as_.remainder()).zip(bs.remainder()).zip(cs.remainder());
    for (out, (((&x, &a), &b), &c)) in outs.into_remainder().iter_mut().zip(rest) {
        *out = x.wrapping_sub(predict(a, b, c));
    }
}

/// The sum of a filtered row's bytes read as signed: adaptive filtering keeps the filter
/// whose sum is smallest. Summed in fixed-size chunks so that it vectorizes.
fn cost(row: &[u8]) -> u64 {
    const CHUNK: usize = 32;
    let magnitude = |b: u8| u64::from((b as i8).unsigned_abs());
    let mut chunks = row.chunks_exact(CHUNK);
    let mut sum = 0;
    for chunk in &mut chunks {
        let mut partial = 0;
        for &b in chunk {
            partial += magnitude(b);
        }
        sum += partial;
    }
    sum + chunks.remainder().iter().map(|&b| magnitude(b)).sum::<u64>()
}

/// PNG's Paeth predictor: whichever of a, b, c is nearest to p = a + b - c, ties in that
/// order. In bytes only: |p - a| = |b - c| and |p - b| = |a - c|; |p - c| is their
/// difference when a and b lie on either side of c, and else their sum, never below
/// either, which any value of at least 255 stands for.
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let pa = b.max(c) - b.min(c);
    let pb = a.max(c) - a.min(c);
    let pc = if (a < c) == (c < b) { pa.max(pb) - pa.min(pb) } else { 255 };
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The reference: the whole image through the `png` crate as `image` calls it.
    fn reference(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
        let mut res = Vec::new();
        let mut encoder = png::Encoder::new(&mut res, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::FilterType::Sub);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(pixels).unwrap();
        drop(writer);
        res
    }

    fn by_rows(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
        let stride = width as usize * PIXEL;
        let mut rows = Rows::new(width).unwrap();
        for row in pixels.chunks_exact(stride) {
            rows.push(row).unwrap();
        }
        let zlib = match rows.finish().unwrap() {
            Some(zlib) => zlib,
            None => {
                let mut stored = Stored::new().unwrap();
                for row in pixels.chunks_exact(stride) {
                    stored.push(row).unwrap();
                }
                stored.finish().unwrap()
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.png");
        write_file(&path, (width, height), &zlib).unwrap();
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn rows_give_the_png_crates_bytes() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let (width, height) = (97, 61);
        // Smooth gradients with a few sharp edges, so every filter wins somewhere.
        let mut pixels = vec![0u8; (width * height) as usize * PIXEL];
        for (idx, byte) in pixels.iter_mut().enumerate() {
            let (x, y) = ((idx / PIXEL) as u32 % width, (idx / PIXEL) as u32 / width);
            *byte = match (x / 20 + y / 15) % 4 {
                0 => 255,
                1 => (x * 2 + y) as u8,
                2 => (x * y) as u8 ^ (idx % PIXEL) as u8,
                _ => rng.random(),
            };
        }
        assert_eq!(by_rows(width, height, &pixels), reference(width, height, &pixels));
    }

    #[test]
    fn noise_is_stored_as_the_png_crate_stores_it() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        let (width, height) = (40, 30);
        let pixels: Vec<u8> = (0..(width * height) as usize * PIXEL).map(|_| rng.random()).collect();
        assert_eq!(by_rows(width, height, &pixels), reference(width, height, &pixels));
    }

    #[test]
    fn paeth_follows_the_specification() {
        for (a, b, c) in (0..=255u8).step_by(5).flat_map(|a| {
            (0..=255u8).step_by(7).flat_map(move |b| (0..=255u8).step_by(3).map(move |c| (a, b, c)))
        }) {
            let p = a as i32 + b as i32 - c as i32;
            let nearest = [a, b, c].into_iter().min_by_key(|&v| (p - v as i32).abs()).unwrap();
            assert_eq!(paeth(a, b, c), nearest, "{a} {b} {c}");
        }
    }
}
