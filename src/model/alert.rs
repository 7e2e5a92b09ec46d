//! Alerts: a condition on a metric that must hold for a while before it fires, as
//! Prometheus' `for:` does. A fired alert is recorded (time-to-detect) and may start an
//! operator action after a response delay.

use super::timeline::Action;
use crate::engine::{SimDuration, SimTime};
use crate::ids::{ClassId, ServiceId};

#[derive(Clone, Debug, PartialEq)]
pub struct AlertSpec {
    pub name: String,
    pub metric: AlertMetric,
    pub comparison: Comparison,
    /// In the metric's unit: a fraction, milliseconds or seconds.
    pub threshold: f64,
    /// The condition must hold at every interval end for this long.
    pub hold: SimDuration,
    /// What the on-call operator does once it fires, and how long they take.
    pub then: Option<OperatorAction>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OperatorAction {
    pub after: SimDuration,
    pub action: Action,
    /// Shown with the action's event in the outputs, as a timeline entry's note is.
    pub note: Option<String>,
}

/// What an alert watches, evaluated on each closed interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertMetric {
    /// Success rate of requests that finished in the interval (all classes or one).
    SuccessRate { class: Option<ClassId> },
    /// p99 end-to-end latency in the interval, milliseconds.
    LatencyP99 { class: Option<ClassId> },
    /// Seconds since the newest sample the service's autoscaler has was taken.
    MetricsStaleness { service: ServiceId },
    /// The service's CPU utilisation over the interval.
    CpuUtilisation { service: ServiceId },
    /// CPU utilisation while the desired instance count has not changed for the whole
    /// interval: an autoscaler that should act and does not. 0 when it did act.
    UnscaledUtilisation { service: ServiceId },
}

impl AlertMetric {
    pub const NAMES: [&'static str; 5] =
        ["success_rate", "latency_p99", "metrics_staleness", "cpu_utilisation", "unscaled_utilisation"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Below,
    Above,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => value < threshold,
            Comparison::Above => value > threshold,
        }
    }
}

/// Runtime state of one alert.
#[derive(Clone, Copy, Debug, Default)]
pub struct AlertState {
    /// When the condition started holding without a break.
    pending_since: Option<SimTime>,
    firing: bool,
    /// The operator action was started (it is started once, on the first firing).
    acted: bool,
}

/// What an evaluation decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertChange {
    None,
    /// The alert fired now; `act` when its operator action should be started.
    Fired {
        act: bool,
    },
    Resolved,
}

impl AlertState {
    /// Feeds the condition's value at an interval ending at `now` (`None`: no data, which
    /// neither starts nor breaks a pending condition) and its interval start.
    pub fn evaluate(
        &mut self,
        spec: &AlertSpec,
        interval_start: SimTime,
        now: SimTime,
        value: Option<f64>,
    ) -> AlertChange {
        let Some(value) = value else { return AlertChange::None };
        if !spec.comparison.holds(value, spec.threshold) {
            self.pending_since = None;
            if self.firing {
                self.firing = false;
                return AlertChange::Resolved;
            }
            return AlertChange::None;
        }
        let since = *self.pending_since.get_or_insert(interval_start);
        if !self.firing && now.since(since) >= spec.hold {
            self.firing = true;
            let act = spec.then.is_some() && !self.acted;
            self.acted |= act;
            return AlertChange::Fired { act };
        }
        AlertChange::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hold_s: u64) -> AlertSpec {
        AlertSpec {
            name: "errors".into(),
            metric: AlertMetric::SuccessRate { class: None },
            comparison: Comparison::Below,
            threshold: 0.99,
            hold: SimDuration::from_secs(hold_s),
            then: None,
        }
    }

    #[test]
    fn fires_after_the_condition_holds_for_the_hold_time_and_resolves() {
        let s = |m: u64| SimTime(m * 60_000_000_000);
        let spec = spec(180);
        let mut state = AlertState::default();
        assert_eq!(state.evaluate(&spec, s(0), s(1), Some(0.999)), AlertChange::None);
        assert_eq!(state.evaluate(&spec, s(1), s(2), Some(0.9)), AlertChange::None);
        assert_eq!(state.evaluate(&spec, s(2), s(3), Some(0.9)), AlertChange::None);
        assert_eq!(state.evaluate(&spec, s(3), s(4), None), AlertChange::None, "no data keeps it pending");
        assert_eq!(state.evaluate(&spec, s(4), s(5), Some(0.5)), AlertChange::Fired { act: false });
        assert_eq!(state.evaluate(&spec, s(5), s(6), Some(0.5)), AlertChange::None, "fires once");
        assert_eq!(state.evaluate(&spec, s(6), s(7), Some(0.995)), AlertChange::Resolved);
    }

    #[test]
    fn a_break_restarts_the_hold_and_the_comparison_is_strict() {
        let s = |m: u64| SimTime(m * 60_000_000_000);
        let spec = spec(120);
        let mut state = AlertState::default();
        state.evaluate(&spec, s(0), s(1), Some(0.9));
        assert_eq!(
            state.evaluate(&spec, s(1), s(2), Some(0.99)),
            AlertChange::None,
            "0.99 is not below 0.99"
        );
        assert_eq!(state.evaluate(&spec, s(2), s(3), Some(0.9)), AlertChange::None);
        assert_eq!(state.evaluate(&spec, s(3), s(4), Some(0.9)), AlertChange::Fired { act: false });
    }

    #[test]
    fn the_operator_acts_on_the_first_firing_only() {
        let s = |m: u64| SimTime(m * 60_000_000_000);
        let mut spec = spec(0);
        spec.then = Some(OperatorAction {
            after: SimDuration::from_secs(600),
            action: Action::ScaleTo { service: ServiceId(0), instances: 9 },
            note: None,
        });
        let mut state = AlertState::default();
        assert_eq!(state.evaluate(&spec, s(0), s(1), Some(0.5)), AlertChange::Fired { act: true });
        assert_eq!(state.evaluate(&spec, s(1), s(2), Some(1.0)), AlertChange::Resolved);
        assert_eq!(state.evaluate(&spec, s(2), s(3), Some(0.5)), AlertChange::Fired { act: false });
    }
}
