//! The closed set of things that can happen, dispatched by one `match` in `World::handle`.
//!
//! Events are small and `Copy`: they carry ids, never data. Timers that may have been
//! overtaken (a timeout after the answer came) carry a generational key and are ignored
//! when popped if the slot has moved on.

use super::ids::{AlertId, AttemptId, RequestId, ServiceId, SourceId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A source's next request arrives.
    Arrival {
        source: SourceId,
    },
    /// A closed-loop user has finished thinking (or has just joined): it sends its next
    /// request, unless it leaves.
    UserReady {
        source: SourceId,
    },
    /// A closed-loop source's users profile changes its count.
    UsersChange {
        source: SourceId,
    },
    /// A request's backoff has elapsed: send its next attempt.
    BackoffElapsed {
        request: RequestId,
    },
    /// A hedging client sends another attempt if none has answered yet.
    HedgeDue {
        request: RequestId,
    },
    /// An attempt sent to another region reaches it after the cross-region latency.
    AttemptArrives {
        attempt: AttemptId,
    },
    /// A client stops waiting for an attempt.
    AttemptTimeout {
        attempt: AttemptId,
    },
    /// An attempt has burnt its CPU on a core.
    CpuDone {
        attempt: AttemptId,
    },
    /// The current time-series interval closes.
    IntervalEnd,
    /// The timeline's entry `index` is due.
    Timeline {
        index: u32,
    },
    /// An alert's operator action is due.
    OperatorAction {
        alert: AlertId,
    },
    /// The next job of a released backlog.
    BacklogJob {
        backlog: u32,
    },
    /// A launched instance finished booting (unless its slot was relaunched since).
    InstanceBooted {
        service: ServiceId,
        instance: u32,
        epoch: u32,
    },
    MetricsSample {
        service: ServiceId,
    },
    MetricsDelivered {
        service: ServiceId,
    },
    AutoscalerSync {
        service: ServiceId,
    },
    /// The staged release's next step: its first wave, or the end of a wave's bake.
    Release,
}

const _: () = assert!(std::mem::size_of::<Event>() <= 16, "Event must stay small");
