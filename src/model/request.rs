//! Requests and attempts in flight: the per-item state kept in the slabs.
//!
//! A request is what a user asked for; an attempt is one try of it at a service. Both are
//! freed as soon as they finish, so memory is O(in flight). An attempt abandoned by its
//! client (timeout) stays until the service finishes it: that work is wasted.

use super::ids::{AttemptId, CellId, ClassId, ClientId, RegionId, RequestId, ServiceId, SourceId};
use super::limiter::Permit;
use crate::engine::{SimDuration, SimTime};
use crate::outcome::FailureReason;

#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub class: ClassId,
    pub client: ClientId,
    pub started: SimTime,
    /// The series interval it was offered in, which its outcome is credited to (a user's
    /// try by hand keeps its first try's).
    pub arrival: u32,
    /// Attempts made so far, the first included.
    pub n_attempts: u32,
    /// The last backoff sleep (for decorrelated jitter).
    pub last_sleep: SimDuration,
    /// Why the previous attempt failed (a retry limiter may charge by it).
    pub last_failure: FailureReason,
    /// The attempt this request is a downstream call of; `None` for a user's request.
    pub parent: Option<AttemptId>,
    /// No attempt may outlive this (the client's deadline, or a propagated one).
    pub deadline: Option<SimTime>,
    /// Attempts sent and not yet answered (more than one only when hedging).
    pub outstanding: u32,
    /// Tries the user has made by hand after a failure (human retries).
    pub human_retries: u32,
    /// When the next hedge is due; a hedge timer for another instant is stale.
    pub hedge_at: SimTime,
    /// Its home region; `None` without regions.
    pub home: Option<RegionId>,
    /// Its customer's cell; `None` without cells.
    pub cell: Option<CellId>,
    /// The closed-loop source whose user waits for it, to be woken when it settles;
    /// `None` for an open source's request, a backlog job or a downstream call.
    pub user: Option<SourceId>,
    /// The router destination its latest attempt went to (`NO_ROUTE` before any, or
    /// without a router): where a retry goes next depends on it.
    pub slot: u8,
}

/// The `slot` of a request or attempt that no router has routed.
pub const NO_ROUTE: u8 = u8::MAX;

/// The `instance` of an attempt still on its way to another region.
pub const IN_TRANSIT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    pub request: RequestId,
    pub client: ClientId,
    pub class: ClassId,
    pub service: ServiceId,
    pub instance: u32,
    pub arrived: SimTime,
    /// When it got its worker (for the wait for a core).
    pub got_worker: SimTime,
    /// CPU this attempt burns, drawn when it arrives.
    pub cpu: SimDuration,
    /// The client gave up on it; finishing it is wasted work.
    pub abandoned: bool,
    /// What the client's limiter granted for it, handed back when the client learns the
    /// outcome (answer, rejection or timeout).
    pub permit: Option<Permit>,
    /// Which of the client's limiters granted the permit (a timeline may swap them).
    pub limiter_epoch: u32,
    /// When its caller gives up on it (timeout or propagated deadline), if ever.
    pub deadline: Option<SimTime>,
    /// Downstream calls: the next position in the service's call list (sequential calls),
    /// and calls still outstanding.
    pub call_cursor: u32,
    pub calls_pending: u32,
    /// Its request is a user's, not a downstream call (the class figures count it).
    pub top_level: bool,
    /// Sent by a hedging client: when its request is gone, another attempt settled it
    /// and this one was cancelled.
    pub hedged: bool,
    /// Turned away at the door, it burns the service's rejection CPU (`cpu`) on a core
    /// without a worker before the 503 goes back.
    pub rejecting: bool,
    /// When its client sent it (its latency as the client sees it runs from here).
    pub sent: SimTime,
    /// The router destination it went to, or `NO_ROUTE`.
    pub slot: u8,
    /// Sent to a region other than its request's home: it counts against the
    /// destination's failover cap while it is there.
    pub foreign: bool,
}
