//! Streaming measurement: fixed-size histograms, counters and per-interval series.

pub mod series;
pub mod summary;

pub use series::{IntervalRow, RequestFigures, Series, ServiceFigures};
pub use summary::Summary;
