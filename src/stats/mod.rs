//! Streaming measurement: fixed-size histograms, time-weighted meters, counters and
//! per-interval series. Memory is O(classes + services + intervals), never O(requests).
//!
//! Invariant: nothing here imports `model`, which reports into these types; what both use
//! sits below both (`crate::ids`, `crate::outcome`).

pub mod confidence;
pub mod histogram;
mod homes;
pub mod meter;
pub mod recorder;
pub mod release;
pub mod series;
pub mod slo;
pub mod summary;

pub use histogram::LatencyHistogram;
pub use meter::ServiceMeter;
pub use recorder::{Firing, InFlight, Recorder};
pub use release::{GateFigure, ReleaseLog};
pub use series::{
    BreakerFigures, BreakerPhase, CellFigures, ClientFigures, IntervalRow, Marker, MarkerKind, RegionFigures,
    RequestFigures, Series, ServiceFigures, SloMarks,
};
pub use summary::Summary;
