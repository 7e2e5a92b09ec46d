//! The timeline: faults and operator actions at stated times.
//!
//! An action changes a parameter or the size of a pool; it never decides an outcome. What
//! happens next (failures, recovery) comes from load, capacity and timeouts.

use super::limiter::LimiterSpec;
use crate::engine::{SimDuration, SimTime};
use crate::ids::{ClassId, ClientId, RegionId, ServiceId, ZoneId};

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at: SimTime,
    pub action: Action,
    /// Free text shown with the marker ("certificate renewal fails").
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Multiply the service's CPU costs by `value` from now on (a release).
    CpuMultiplier { service: ServiceId, value: f64 },
    /// Multiply a dependency provider's answer times by `value` from now on (a slow-down;
    /// the provider's pool keeps its latency where a service keeps its CPU cost).
    LatencyMultiplier { service: ServiceId, value: f64 },
    /// Only this fraction of the service's instances report metrics (0 = an outage,
    /// 1 = restored).
    Metrics { service: ServiceId, reporting: f64 },
    /// `count` ready instances fail; their attempts fail with `no_capacity`.
    InstanceLoss { service: ServiceId, count: u32 },
    /// `jobs` requests released through `client`, at once or spread evenly over `over`,
    /// homed in `region` (or evenly over the regions, if the scenario has any).
    Backlog {
        client: ClientId,
        class: Option<ClassId>,
        jobs: u64,
        over: SimDuration,
        region: Option<RegionId>,
    },
    /// An operator sets the desired instance count.
    ScaleTo { service: ServiceId, instances: u32 },
    /// Admit this fraction of arriving attempts, going linearly from `from` (default: the
    /// current fraction) to `to` over `over`; the rest are rejected at the door.
    /// `to = 0` is a drain.
    Admit { service: ServiceId, from: Option<f64>, to: f64, over: SimDuration },
    /// Switch a client's retry limiter on (`Some`) or off (`None`).
    Limiter { client: ClientId, limiter: Option<LimiterSpec> },
    /// This share of the service's answers are errors from now on (a failing dependency;
    /// 100% is an outage that answers fast).
    ErrorRate { service: ServiceId, value: f64 },
    /// Every instance in the zone fails; replacements go to the other zones.
    ZoneLoss { service: ServiceId, zone: ZoneId, name: String },
    /// The zone is back: the pool launches what it misses (booting) into the zones up.
    ZoneRestore { service: ServiceId, zone: ZoneId, name: String },
    /// The zone loss of every zone of the region, for each of `pools` (the pools deployed
    /// there): nothing launches until the region is restored.
    RegionLoss { region: RegionId, name: String, pools: Vec<ServiceId> },
    /// The zone restore of every zone of the region, for each of `pools`.
    RegionRestore { region: RegionId, name: String, pools: Vec<ServiceId> },
}

impl Action {
    /// The action's name in scenario files.
    pub const NAMES: [&'static str; 13] = [
        "cpu_multiplier",
        "latency_multiplier",
        "metrics",
        "instance_loss",
        "backlog",
        "scale_to",
        "admit",
        "limiter",
        "error_rate",
        "zone_loss",
        "zone_restore",
        "region_loss",
        "region_restore",
    ];

    pub fn name(&self) -> &'static str {
        let index = match self {
            Action::CpuMultiplier { .. } => 0,
            Action::LatencyMultiplier { .. } => 1,
            Action::Metrics { .. } => 2,
            Action::InstanceLoss { .. } => 3,
            Action::Backlog { .. } => 4,
            Action::ScaleTo { .. } => 5,
            Action::Admit { .. } => 6,
            Action::Limiter { .. } => 7,
            Action::ErrorRate { .. } => 8,
            Action::ZoneLoss { .. } => 9,
            Action::ZoneRestore { .. } => 10,
            Action::RegionLoss { .. } => 11,
            Action::RegionRestore { .. } => 12,
        };
        Action::NAMES[index]
    }

    /// A one-line description for markers, given the scenario's service and client names.
    pub fn describe(&self, services: &[String], clients: &[String]) -> String {
        let percent = |f: f64| format!("{}%", (f * 1000.0).round() / 10.0);
        match self {
            Action::CpuMultiplier { service, value } => {
                format!("{}: CPU cost x{value}", services[service.idx()])
            }
            Action::LatencyMultiplier { service, value } => {
                format!("{}: latency x{value}", services[service.idx()])
            }
            Action::Metrics { service, reporting } if *reporting <= 0.0 => {
                format!("{}: metrics stop", services[service.idx()])
            }
            Action::Metrics { service, reporting } if *reporting >= 1.0 => {
                format!("{}: metrics restored", services[service.idx()])
            }
            Action::Metrics { service, reporting } => {
                format!("{}: {} of instances report metrics", services[service.idx()], percent(*reporting))
            }
            Action::InstanceLoss { service, count } => {
                format!("{}: {count} instances lost", services[service.idx()])
            }
            Action::Backlog { client, jobs, over, .. } if over.0 == 0 => {
                format!("{}: backlog of {jobs} released at once", clients[client.idx()])
            }
            Action::Backlog { client, jobs, over, .. } => {
                format!("{}: backlog of {jobs} released over {over}", clients[client.idx()])
            }
            Action::ScaleTo { service, instances } => {
                format!("{}: scale to {instances}", services[service.idx()])
            }
            Action::Admit { service, to, over, .. } if over.0 == 0 => {
                format!("{}: admit {}", services[service.idx()], percent(*to))
            }
            Action::Admit { service, from, to, over } => {
                let from = from.map(|f| format!(" from {}", percent(f))).unwrap_or_default();
                format!("{}: admit{from} to {} over {over}", services[service.idx()], percent(*to))
            }
            Action::Limiter { client, limiter: Some(spec) } => {
                format!("{}: {} on", clients[client.idx()], spec.kind())
            }
            Action::Limiter { client, limiter: None } => format!("{}: limiter off", clients[client.idx()]),
            Action::ErrorRate { service, value } => {
                format!("{}: {} of answers are errors", services[service.idx()], percent(*value))
            }
            Action::ZoneLoss { service, name, .. } => {
                format!("{}: zone {name} lost", services[service.idx()])
            }
            Action::ZoneRestore { service, name, .. } => {
                format!("{}: zone {name} restored", services[service.idx()])
            }
            Action::RegionLoss { name, .. } => format!("region {name} lost"),
            Action::RegionRestore { name, .. } => format!("region {name} restored"),
        }
    }
}

/// The fraction of attempts a service admits: a linear ramp between two times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdmissionRamp {
    from: f64,
    to: f64,
    start: SimTime,
    end: SimTime,
}

impl Default for AdmissionRamp {
    fn default() -> AdmissionRamp {
        AdmissionRamp { from: 1.0, to: 1.0, start: SimTime::ZERO, end: SimTime::ZERO }
    }
}

impl AdmissionRamp {
    pub fn new(from: f64, to: f64, start: SimTime, over: SimDuration) -> AdmissionRamp {
        AdmissionRamp { from, to, start, end: start.after(over) }
    }

    /// The fraction admitted at `now`.
    #[inline]
    pub fn at(&self, now: SimTime) -> f64 {
        if now >= self.end {
            self.to
        } else if now <= self.start {
            self.from
        } else {
            let f = now.since(self.start).as_secs_f64() / self.end.since(self.start).as_secs_f64();
            self.from + (self.to - self.from) * f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_ramps_linearly() {
        let s = |x: u64| SimTime(x * 1_000_000_000);
        let ramp = AdmissionRamp::new(0.1, 1.0, s(100), SimDuration::from_secs(1800));
        assert_eq!(ramp.at(s(0)), 0.1);
        assert!((ramp.at(s(1000)) - 0.55).abs() < 1e-12);
        assert_eq!(ramp.at(s(1900)), 1.0);
        assert_eq!(AdmissionRamp::default().at(s(5)), 1.0);
        let drain = AdmissionRamp::new(1.0, 0.0, s(10), SimDuration::ZERO);
        assert_eq!(drain.at(s(10)), 0.0);
    }
}
