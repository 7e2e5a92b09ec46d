//! Why a request or an attempt failed: one enum, used by the model, the statistics and the
//! reports (its snake_case names are the keys of `summary.json`). It sits below both the
//! model and the statistics, so the statistics need nothing from the model.

/// Every failure reason the model can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureReason {
    /// The caller gave up waiting (a gateway timeout: a 504).
    Timeout,
    /// Refused by admission control, a full queue or shedding (a 503).
    Rejected,
    /// A dependency answered with an error.
    DependencyError,
    /// A circuit breaker refused the call locally.
    CircuitOpen,
    /// A retry was wanted but a retry limiter refused it.
    RetryBudgetExhausted,
    /// The overall deadline passed.
    DeadlineExceeded,
    /// Nowhere to send it (no instance ready, zone or region down).
    NoCapacity,
    /// Failover traffic over the share of the target region's capacity that isolation
    /// allows it.
    FailoverCapped,
}

impl FailureReason {
    pub const ALL: [FailureReason; 8] = [
        FailureReason::Timeout,
        FailureReason::Rejected,
        FailureReason::DependencyError,
        FailureReason::CircuitOpen,
        FailureReason::RetryBudgetExhausted,
        FailureReason::DeadlineExceeded,
        FailureReason::NoCapacity,
        FailureReason::FailoverCapped,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in `summary.json`, `timeseries.csv` and thresholds.
    pub fn name(self) -> &'static str {
        match self {
            FailureReason::Timeout => "timeout",
            FailureReason::Rejected => "rejected",
            FailureReason::DependencyError => "dependency_error",
            FailureReason::CircuitOpen => "circuit_open",
            FailureReason::RetryBudgetExhausted => "retry_budget_exhausted",
            FailureReason::DeadlineExceeded => "deadline_exceeded",
            FailureReason::NoCapacity => "no_capacity",
            FailureReason::FailoverCapped => "failover_capped",
        }
    }
}
