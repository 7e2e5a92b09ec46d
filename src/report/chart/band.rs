//! PNG charts drawn a band of rows at a time, so that a chart's bitmap is never whole in
//! memory: a tall run chart is 1200 x 2000 pixels, 7 MB of RGB, where a band of
//! `BAND_ROWS` is under half a megabyte.
//!
//! The whole chart is drawn once per band on a `Band` backend: it reports the whole
//! canvas's size, so plotters lays out and rasterizes exactly as on a whole bitmap, and it
//! keeps only the pixels that fall in its rows. What `BitMapBackend` draws its own way
//! (lines along an axis, filled rectangles, bitmaps) and text clip each pixel or clamp to
//! the bitmap, so they run on the band's rows with the coordinates moved; the rest (other
//! lines, polygons, circles) is rasterized as plotters does for a whole bitmap, on the
//! whole canvas, since its clipping depends on the canvas. Shapes and text that cannot
//! reach the band are skipped, so a band costs little more than its share of the chart.
//! The pixels, and so the PNG's bytes (`png.rs`), are those of a chart drawn whole.

use super::png::{PIXEL, Rows, Stored};
use super::{ChartError, png};
use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::io;
use std::path::Path;

/// Rows drawn at a time: 1200 x 128 RGB pixels is 460 KB.
const BAND_ROWS: u32 = 128;

/// Draws a chart of `size` pixels with `draw`, once per band, and writes it as a PNG at
/// `path`.
pub(super) fn write_png<F>(path: &Path, size: (u32, u32), mut draw: F) -> Result<(), ChartError>
where
    F: FnMut(&DrawingArea<Band<'_>, Shift>) -> Result<(), ChartError>,
{
    let mut rows = Rows::new(size.0).map_err(io_error)?;
    each_row(size, &mut draw, |row| rows.push(row))?;
    let zlib = match rows.finish().map_err(io_error)? {
        Some(zlib) => zlib,
        None => {
            let mut stored = Stored::new().map_err(io_error)?;
            each_row(size, &mut draw, |row| stored.push(row))?;
            stored.finish().map_err(io_error)?
        }
    };
    png::write_file(path, size, &zlib).map_err(io_error)
}

/// Draws the chart band by band and hands each row of pixels, top to bottom, to `sink`.
fn each_row<F>(
    (width, height): (u32, u32),
    draw: &mut F,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<(), ChartError>
where
    F: FnMut(&DrawingArea<Band<'_>, Shift>) -> Result<(), ChartError>,
{
    let stride = width as usize * PIXEL;
    let mut pixels = vec![0; stride * BAND_ROWS.min(height) as usize];
    for top in (0..height).step_by(BAND_ROWS as usize) {
        let n_rows = BAND_ROWS.min(height - top);
        let pixels = &mut pixels[..stride * n_rows as usize];
        // A new bitmap is black until drawn on.
        pixels.fill(0);
        let band = Band {
            rows: BitMapBackend::with_buffer(pixels, (width, n_rows)),
            top: top as i32,
            width,
            height,
        };
        draw(&band.into_drawing_area())?;
        for row in pixels.chunks_exact(stride) {
            sink(row).map_err(io_error)?;
        }
    }
    Ok(())
}

fn io_error(error: io::Error) -> ChartError {
    ChartError(error.to_string())
}

/// The rows `top..top + rows` of a `width` x `height` canvas.
pub(super) struct Band<'a> {
    rows: BitMapBackend<'a>,
    top: i32,
    width: u32,
    height: u32,
}

impl Band<'_> {
    /// A canvas point in the band's own rows (outside them when it is outside the band).
    fn shift(&self, (x, y): BackendCoord) -> BackendCoord {
        (x, y.saturating_sub(self.top))
    }

    /// Whether canvas rows `low..=high`, widened by `margin` each way, all miss the band.
    fn misses_rows(&self, low: i32, high: i32, margin: i32) -> bool {
        let (_, n_rows) = self.rows.get_size();
        high.saturating_add(margin) < self.top || low.saturating_sub(margin) >= self.top + n_rows as i32
    }

    /// Whether no pixel of `text` drawn at `pos` can fall in the band, so that its glyphs
    /// need not be rasterized (most of a band's drawing time). Plotters places the glyphs
    /// around the text's layout box, turned by its transform; a glyph of the embedded font
    /// reaches at most about one font size past that box (accents above, descenders below,
    /// overhangs), so the box widened by twice the size on every side holds them all.
    fn misses<S: BackendTextStyle>(&self, text: &str, style: &S, pos: BackendCoord) -> bool {
        let Ok(((min_x, min_y), (max_x, max_y))) = style.layout_box(text) else {
            // Let the drawing report the error.
            return false;
        };
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let margin = (2.0 * style.size()).ceil() as i32 + 2;
        let (left, right) = (dx - min_x - margin, dx - min_x + width + margin);
        let (up, down) = (dy - min_y - margin, dy - min_y + height + margin);
        let transform = style.transform();
        let ys =
            [(left, up), (left, down), (right, up), (right, down)].map(|(x, y)| transform.transform(x, y).1);
        let (low, high) = (ys.into_iter().min().unwrap_or(0), ys.into_iter().max().unwrap_or(0));
        self.misses_rows(pos.1.saturating_add(low), pos.1.saturating_add(high), 0)
    }
}

/// What a drawing operation returns.
type Drawn<E> = Result<(), DrawingErrorKind<E>>;

impl<'a> DrawingBackend for Band<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn ensure_prepared(&mut self) -> Drawn<Self::ErrorType> {
        Ok(())
    }

    fn present(&mut self) -> Drawn<Self::ErrorType> {
        Ok(())
    }

    /// The band drops a pixel outside its rows, as the whole bitmap one outside the canvas.
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn<Self::ErrorType> {
        let point = self.shift(point);
        self.rows.draw_pixel(point, color)
    }

    /// `BitMapBackend::draw_line`'s choice: its fast path for thin lines along an axis,
    /// else the rasterizer, skipped when the line (anti-aliased a pixel either side, or as
    /// thick as its stroke) cannot reach the band.
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn<Self::ErrorType> {
        if (from.0 == to.0 || from.1 == to.1) && style.stroke_width() == 1 {
            let (from, to) = (self.shift(from), self.shift(to));
            return self.rows.draw_line(from, to, style);
        }
        if self.misses_rows(from.1.min(to.1), from.1.max(to.1), style.stroke_width() as i32 + 2) {
            return Ok(());
        }
        plotters_backend::rasterizer::draw_line(self, from, to, style)
    }

    /// `BitMapBackend::draw_rect`'s choice: its fast path for a filled rectangle, else the
    /// rasterizer.
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn<Self::ErrorType> {
        if fill {
            let (upper_left, bottom_right) = (self.shift(upper_left), self.shift(bottom_right));
            return self.rows.draw_rect(upper_left, bottom_right, style, true);
        }
        plotters_backend::rasterizer::draw_rect(self, upper_left, bottom_right, style, fill)
    }

    /// The rasterizer, as for a whole bitmap, skipped when no vertex is near the band: a
    /// polygon fills its vertices' rows, anti-aliased a pixel beyond.
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Drawn<Self::ErrorType> {
        let vertices: Vec<_> = vertices.into_iter().collect();
        let low = vertices.iter().map(|point| point.1).min();
        let high = vertices.iter().map(|point| point.1).max();
        if let (Some(low), Some(high)) = (low, high)
            && self.misses_rows(low, high, 2)
        {
            return Ok(());
        }
        plotters_backend::rasterizer::fill_polygon(self, &vertices, style)
    }

    /// The rasterizer, as for a whole bitmap, skipped when the circle cannot reach the band.
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn<Self::ErrorType> {
        if self.misses_rows(center.1, center.1, radius.min(i32::MAX as u32) as i32 + 2) {
            return Ok(());
        }
        plotters_backend::rasterizer::draw_circle(self, center, radius, style, fill)
    }

    /// Text is drawn on the band's rows with its position moved: plotters' text drawing
    /// clips each pixel to the bitmap, so the band gets exactly its rows of the text.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Drawn<Self::ErrorType> {
        if self.misses(text, style, pos) {
            return Ok(());
        }
        let pos = self.shift(pos);
        self.rows.draw_text(text, style, pos)
    }

    /// Copies the image's rows that fall in the band (none when it lies wholly above or
    /// below: `BitMapBackend` expects some overlap).
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn<Self::ErrorType> {
        let pos = self.shift(pos);
        let (_, n_rows) = self.rows.get_size();
        if pos.1.saturating_add(size.1 as i32) <= 0 || pos.1 >= n_rows as i32 {
            return Ok(());
        }
        self.rows.blit_bitmap(pos, size, src)
    }
}
