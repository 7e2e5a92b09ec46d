//! The ids the model uses: the components' ids (shared with the statistics, in
//! `crate::ids`) and the keys of requests and attempts in flight.

pub use crate::ids::{AlertId, CellId, ClassId, ClientId, RegionId, ServiceId, SourceId, ZoneId};

use crate::engine::Key;

/// A request in flight: a slot in the request slab plus its generation.
pub type RequestId = Key;
/// An attempt in flight: a slot in the attempt slab plus its generation.
pub type AttemptId = Key;
