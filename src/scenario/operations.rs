//! Resolves the operational sections: instance lifecycle, the metrics pipeline, the
//! autoscaler, the timeline, alerts and the SLO. Same rules as `resolve`: every refusal
//! names the key, points at what the user wrote and says what would be valid.

use std::ops::Range;

use super::spanned::Spanned;

use super::checks::{check_count, check_delay, lookup, present, time_from_start};
use super::concurrency::resolve_concurrency_limit;
use super::error::Problem;
use super::file::{
    ActionFile, ActionKindFile, AlertFile, AlertMetricFile, AutoscalerFile, Count, DisciplineFile, Named,
    Number, ScenarioFile, ServiceFile,
};
use super::limiter::resolve_limiter_switch;
use super::units::{ClockTime, Duration, Percent};
use crate::engine::SimDuration;
use crate::ids::{ClassId, ClientId, RegionId, ServiceId, ZoneId};
use crate::model::alert::{AlertMetric, AlertSpec, Comparison, OperatorAction};
use crate::model::autoscaler::{AutoscalerPreset, AutoscalerSpec, BlindPolicy, StepLimit};
use crate::model::overload::{CoDel, Discipline, OverloadControl};
use crate::model::timeline::{Action, TimelineEntry};
use crate::model::{Lifecycle, MetricsSpec, Slo};
use crate::refusal::quoted_list;

/// Shortest metrics period and autoscaler sync: 1 s (shorter floods the event queue).
const MIN_PERIOD: SimDuration = SimDuration::from_secs(1);
/// Largest CPU-cost multiplier: 1000.
const MAX_MULTIPLIER: f64 = 1000.0;
/// Most jobs in one backlog: 1e9.
const MAX_JOBS: i64 = 1_000_000_000;
/// Most instances in a scaling decision (as for `services.*.instances`).
const MAX_INSTANCES: i64 = 100_000;

/// The names the timeline and alerts refer to.
pub(super) struct Names<'a> {
    pub classes: Vec<&'a str>,
    pub clients: Vec<&'a str>,
    /// Pools, in id order: a service with regions has one per region, `name@region`.
    pub services: Vec<&'a str>,
    /// Each service with regions and its pools: a timeline entry naming it acts on each.
    pub groups: Vec<(&'a str, Vec<ServiceId>)>,
    pub regions: Vec<&'a str>,
    /// Each pool's region.
    pub pool_regions: Vec<Option<RegionId>>,
    /// Each pool's zones.
    pub zones: Vec<Vec<String>>,
    /// Whether each pool is a dependency's provider.
    pub providers: Vec<bool>,
    pub start: Option<ClockTime>,
    pub duration: SimDuration,
}

/// A service's operational parameters.
pub(super) struct ServiceOps {
    pub cpu_multiplier: f64,
    pub lifecycle: Lifecycle,
    pub metrics: MetricsSpec,
    pub autoscaler: Option<AutoscalerSpec>,
    pub overload: OverloadControl,
    pub connection_cpu: SimDuration,
    pub pooled: bool,
}

pub(super) fn resolve_service_ops(
    name: &str,
    service: &ServiceFile,
    start: Option<ClockTime>,
) -> Result<ServiceOps, Problem> {
    let key = |field: &str| format!("services.{name}.{field}");
    let cpu_multiplier =
        check_factor(present(&service.cpu_multiplier, &key("cpu_multiplier"))?, &key("cpu_multiplier"))?;
    let lifecycle = Lifecycle {
        boot_delay: check_delay(present(&service.boot_delay, &key("boot_delay"))?, &key("boot_delay"))?,
        warmup: check_delay(present(&service.warmup, &key("warmup"))?, &key("warmup"))?,
        warmup_cpu: check_factor(present(&service.warmup_cpu, &key("warmup_cpu"))?, &key("warmup_cpu"))?,
        replace_failed: *present(&service.replace_failed, &key("replace_failed"))?,
    };
    let metrics_file = present(&service.metrics, &key("metrics"))?;
    let metrics = MetricsSpec {
        period: check_period(present(&metrics_file.period, &key("metrics.period"))?, &key("metrics.period"))?,
        delay: check_delay(present(&metrics_file.delay, &key("metrics.delay"))?, &key("metrics.delay"))?,
    };
    let autoscaler = match &service.autoscaler {
        Some(file) => Some(resolve_autoscaler(file, &key("autoscaler"), start)?),
        None => None,
    };
    let connection_cpu =
        check_delay(present(&service.connection_cpu, &key("connection_cpu"))?, &key("connection_cpu"))?;
    Ok(ServiceOps {
        cpu_multiplier,
        lifecycle,
        metrics,
        autoscaler,
        overload: resolve_overload(name, service)?,
        connection_cpu,
        pooled: *present(&service.pooled, &key("pooled"))?,
    })
}

fn resolve_overload(name: &str, service: &ServiceFile) -> Result<OverloadControl, Problem> {
    let key = |field: &str| format!("services.{name}.{field}");
    let queue = present(&service.queue, &key("queue"))?;
    let codel = || -> Result<CoDel, Problem> {
        let target = present(&queue.codel_target, &key("queue.codel_target"))?;
        let interval = present(&queue.codel_interval, &key("queue.codel_interval"))?;
        let codel = CoDel {
            target: check_delay(target, &key("queue.codel_target"))?,
            interval: check_delay(interval, &key("queue.codel_interval"))?,
        };
        if codel.target.0 == 0 || codel.target >= codel.interval {
            return Problem::new(
                target.span(),
                key("queue.codel_target"),
                format!("target {} is not below the interval {}", target.get_ref(), interval.get_ref()),
            )
            .expected("a target above 0 and below codel_interval (folly: 5ms and 100ms)")
            .into_err();
        }
        Ok(codel)
    };
    let refuse_codel_keys = || {
        let stray = queue
            .codel_target
            .as_ref()
            .map(|t| ("queue.codel_target", t.span()))
            .or_else(|| queue.codel_interval.as_ref().map(|i| ("queue.codel_interval", i.span())));
        match stray {
            Some((field, span)) if !span.is_empty() => {
                Problem::new(span, key(field), "only CoDel and adaptive LIFO have a target and an interval")
                    .expected("discipline = \"codel\" or \"adaptive_lifo\", or no codel keys")
                    .into_err()
            }
            _ => Ok(()),
        }
    };
    let discipline = match present(&queue.discipline, &key("queue.discipline"))? {
        DisciplineFile::Fifo => refuse_codel_keys().map(|()| Discipline::Fifo)?,
        DisciplineFile::Lifo => refuse_codel_keys().map(|()| Discipline::Lifo)?,
        DisciplineFile::AdaptiveLifo => Discipline::AdaptiveLifo { codel: codel()? },
        DisciplineFile::CoDel => Discipline::CoDel(codel()?),
    };
    let shed_above = match &service.shed_above {
        Some(value) => {
            let fraction = value.get_ref().fraction();
            if !(fraction > 0.0 && fraction <= 1.0) {
                return Problem::new(
                    value.span(),
                    key("shed_above"),
                    format!("{} is not a utilisation", value.get_ref()),
                )
                .expected("a percentage above 0% and at most 100%, such as \"85%\"")
                .into_err();
            }
            Some(fraction)
        }
        None => None,
    };
    let concurrency_limit = match &service.concurrency_limit {
        Some(file) => Some(resolve_concurrency_limit(file, &key("concurrency_limit"))?),
        None => None,
    };
    Ok(OverloadControl {
        discipline,
        drop_abandoned: *present(&service.drop_abandoned, &key("drop_abandoned"))?,
        shed_above,
        concurrency_limit,
        reject_cpu: check_delay(present(&service.reject_cpu, &key("reject_cpu"))?, &key("reject_cpu"))?,
    })
}

fn resolve_autoscaler(
    file: &AutoscalerFile,
    key: &str,
    start: Option<ClockTime>,
) -> Result<AutoscalerSpec, Problem> {
    let key = |field: &str| format!("{key}.{field}");
    let preset_name = present(&file.preset, &key("preset"))?;
    let preset = AutoscalerPreset::from_name(preset_name.get_ref()).ok_or_else(|| {
        Problem::new(
            preset_name.span(),
            key("preset"),
            format!("unknown autoscaler preset \"{}\"", preset_name.get_ref()),
        )
        .expected(format!("one of {}", quoted_list(&AutoscalerPreset::NAMES)))
    })?;
    let max = check_count(&file.max, &key("max"), "max", 1..=MAX_INSTANCES)? as u32;
    let min = check_count(present(&file.min, &key("min"))?, &key("min"), "min", 0..=max as i64)? as u32;
    let target = present(&file.target, &key("target"))?;
    if !(target.get_ref().fraction() > 0.0 && target.get_ref().fraction() <= 1.0) {
        return Problem::new(
            target.span(),
            key("target"),
            format!("target {} is not a utilisation", target.get_ref()),
        )
        .expected("a percentage above 0% and at most 100%, such as \"60%\"")
        .into_err();
    }
    let tolerance = present(&file.tolerance, &key("tolerance"))?;
    if tolerance.get_ref().fraction() >= 1.0 {
        return Problem::new(
            tolerance.span(),
            key("tolerance"),
            format!("tolerance {} would never scale", tolerance.get_ref()),
        )
        .expected("a percentage below 100%, such as \"10%\"")
        .into_err();
    }
    let when_blind = present(&file.when_blind, &key("when_blind"))?;
    let when_blind_policy = BlindPolicy::from_name(when_blind.get_ref()).ok_or_else(|| {
        Problem::new(
            when_blind.span(),
            key("when_blind"),
            format!("unknown policy \"{}\"", when_blind.get_ref()),
        )
        .expected(format!("one of {}", quoted_list(&BlindPolicy::NAMES)))
    })?;
    let blind_instances = check_count(
        present(&file.blind_instances, &key("blind_instances"))?,
        &key("blind_instances"),
        "blind_instances",
        0..=max as i64,
    )? as u32;
    let mut schedule = Vec::new();
    for (index, step) in file.schedule.iter().enumerate() {
        let step_key = format!("{}[{index}]", key("schedule"));
        let at = time_from_start(&step.at, &format!("{step_key}.at"), start)?;
        if let Some(&(previous, _)) = schedule.last()
            && at <= previous
        {
            return Problem::new(step.at.span(), format!("{step_key}.at"), "schedule times must increase")
                .expected("steps in strictly increasing time order")
                .into_err();
        }
        let instances =
            check_count(&step.instances, &format!("{step_key}.instances"), "instances", 0..=max as i64)?;
        schedule.push((at, instances as u32));
    }
    let step = |percent: &Option<Spanned<Percent>>, pods: Option<&Spanned<Count>>, field: &str| {
        let Some(percent) = percent else { return Ok(None) };
        let pods = match pods {
            Some(pods) => check_count(pods, &key("scale_up_pods"), "pods", 0..=MAX_INSTANCES)? as u32,
            None => 0,
        };
        if field == "scale_down_percent" && percent.get_ref().fraction() > 1.0 {
            return Problem::new(
                percent.span(),
                key(field),
                format!("{} would remove more than every instance", percent.get_ref()),
            )
            .expected("a percentage from 0% to 100%")
            .into_err();
        }
        Ok(Some(StepLimit { percent: percent.get_ref().fraction(), pods }))
    };
    Ok(AutoscalerSpec {
        mode: preset.spec(0.5, min, max).mode,
        target: target.get_ref().fraction(),
        min,
        max,
        sync: check_period(present(&file.sync, &key("sync"))?, &key("sync"))?,
        tolerance: tolerance.get_ref().fraction(),
        scale_up_window: check_delay(
            present(&file.scale_up_window, &key("scale_up_window"))?,
            &key("scale_up_window"),
        )?,
        scale_down_window: check_delay(
            present(&file.scale_down_window, &key("scale_down_window"))?,
            &key("scale_down_window"),
        )?,
        scale_up_limit: step(&file.scale_up_percent, file.scale_up_pods.as_ref(), "scale_up_percent")?,
        scale_down_limit: step(&file.scale_down_percent, None, "scale_down_percent")?,
        scale_in_cooldown: check_delay(
            present(&file.scale_in_cooldown, &key("scale_in_cooldown"))?,
            &key("scale_in_cooldown"),
        )?,
        stale_after: check_period(present(&file.stale_after, &key("stale_after"))?, &key("stale_after"))?,
        when_blind: when_blind_policy,
        blind_instances,
        schedule,
    })
}

pub(super) fn resolve_timeline(file: &ScenarioFile, names: &Names) -> Result<Vec<TimelineEntry>, Problem> {
    let mut entries = Vec::with_capacity(file.timeline.len());
    for (index, entry) in file.timeline.iter().enumerate() {
        let key = format!("timeline[{index}]");
        if let Some(after) = &entry.after {
            return Problem::new(after.span(), format!("{key}.after"), "a timeline entry happens `at` a time")
                .expected("at = \"08:41\" or a duration from the start such as \"90m\"; `after` is for an alert's `then`")
                .into_err();
        }
        let Some(at_value) = &entry.at else {
            return Problem::new(entry.action.span(), format!("{key}.at"), "a timeline entry needs a time")
                .expected("at = \"08:41\" or a duration from the start such as \"90m\"")
                .into_err();
        };
        let at = time_from_start(at_value, &format!("{key}.at"), names.start)?;
        if at.0 >= names.duration.0 {
            return Problem::new(
                at_value.span(),
                format!("{key}.at"),
                format!("{} is at or after the end of the run", at_value.get_ref()),
            )
            .expected(format!("a time within the run's {}", Duration(names.duration)))
            .into_err();
        }
        for action in resolve_actions(entry, &key, names)? {
            entries.push(TimelineEntry { at, action, note: entry.note.clone() });
        }
    }
    // Entries at the same time keep their file order (the sort is stable).
    entries.sort_by_key(|entry| entry.at);
    Ok(entries)
}

/// Which keys each action takes, beyond `action`, `at`/`after` and `note`.
fn action_keys(kind: ActionKindFile) -> (&'static [&'static str], &'static [&'static str]) {
    // (required, optional)
    match kind {
        ActionKindFile::CpuMultiplier | ActionKindFile::LatencyMultiplier => (&["service", "value"], &[]),
        ActionKindFile::Metrics => (&["service", "reporting"], &[]),
        ActionKindFile::InstanceLoss => (&["service", "count"], &[]),
        ActionKindFile::Backlog => (&["client", "jobs"], &["class", "over", "region"]),
        ActionKindFile::ScaleTo => (&["service", "instances"], &[]),
        ActionKindFile::Admit => (&["service", "to"], &["from", "over"]),
        ActionKindFile::Limiter => (&["client", "limiter"], &[]),
        ActionKindFile::ErrorRate => (&["service", "errors"], &[]),
        ActionKindFile::ZoneLoss | ActionKindFile::ZoneRestore => (&["service", "zone"], &[]),
        ActionKindFile::RegionLoss | ActionKindFile::RegionRestore => (&["region"], &["service"]),
    }
}

/// The action-specific keys present in an entry, with their spans.
fn present_keys(entry: &ActionFile) -> Vec<(&'static str, Range<usize>)> {
    let mut keys = Vec::new();
    let mut add = |name: &'static str, span: Option<Range<usize>>| {
        if let Some(span) = span {
            keys.push((name, span));
        }
    };
    add("service", entry.service.as_ref().map(Spanned::span));
    add("client", entry.client.as_ref().map(Spanned::span));
    add("class", entry.class.as_ref().map(Spanned::span));
    add("value", entry.value.as_ref().map(Spanned::span));
    add("reporting", entry.reporting.as_ref().map(Spanned::span));
    add("count", entry.count.as_ref().map(Spanned::span));
    add("jobs", entry.jobs.as_ref().map(Spanned::span));
    add("over", entry.over.as_ref().map(Spanned::span));
    add("instances", entry.instances.as_ref().map(Spanned::span));
    add("from", entry.from.as_ref().map(Spanned::span));
    add("to", entry.to.as_ref().map(Spanned::span));
    add("limiter", entry.limiter.as_ref().map(Spanned::span));
    add("errors", entry.errors.as_ref().map(Spanned::span));
    add("zone", entry.zone.as_ref().map(Spanned::span));
    add("region", entry.region.as_ref().map(Spanned::span));
    keys
}

/// A timeline entry's actions: one, or one per pool when it names a service deployed in
/// regions (a zone action goes to the pool whose region holds the zone).
fn resolve_actions(entry: &ActionFile, key: &str, names: &Names) -> Result<Vec<Action>, Problem> {
    let kind = *entry.action.get_ref();
    let group = entry
        .service
        .as_ref()
        .and_then(|service| names.groups.iter().find(|(name, _)| *name == service.get_ref().as_str()));
    let Some((_, pools)) =
        group.filter(|_| !matches!(kind, ActionKindFile::RegionLoss | ActionKindFile::RegionRestore))
    else {
        return Ok(vec![resolve_action(entry, key, names, None)?]);
    };
    if let (ActionKindFile::ZoneLoss | ActionKindFile::ZoneRestore, Some(zone)) = (kind, &entry.zone) {
        let pool = pools.iter().find(|pool| names.zones[pool.idx()].contains(zone.get_ref()));
        let Some(&pool) = pool else {
            let zones: Vec<&str> =
                pools.iter().flat_map(|pool| names.zones[pool.idx()].iter().map(String::as_str)).collect();
            return Problem::new(
                zone.span(),
                format!("{key}.zone"),
                format!("unknown zone \"{}\"", zone.get_ref()),
            )
            .expected(format!("one of {}", quoted_list(&zones)))
            .into_err();
        };
        return Ok(vec![resolve_action(entry, key, names, Some(pool))?]);
    }
    pools.iter().map(|&pool| resolve_action(entry, key, names, Some(pool))).collect()
}

/// One pool named by `reference`; a service with regions must be named by one of its pools.
fn one_pool(names: &Names, reference: &Spanned<String>, key: &str) -> Result<ServiceId, Problem> {
    if let Some((name, pools)) = names.groups.iter().find(|(name, _)| *name == reference.get_ref().as_str()) {
        let pool_names: Vec<&str> = pools.iter().map(|pool| names.services[pool.idx()]).collect();
        let message = if names.providers[pools[0].idx()] {
            format!("dependency \"{name}\" has {} providers, one pool each", pools.len())
        } else {
            format!("service \"{name}\" is deployed in {} regions, one pool each", pools.len())
        };
        return Problem::new(reference.span(), key, message)
            .expected(format!("one of its pools: {}", quoted_list(&pool_names)))
            .into_err();
    }
    let mut choices = names.services.clone();
    choices.extend(names.groups.iter().map(|(name, _)| *name));
    let idx = lookup(&choices, reference, key, "service")?;
    Ok(ServiceId::from_idx(idx))
}

fn resolve_action(
    entry: &ActionFile,
    key: &str,
    names: &Names,
    pool: Option<ServiceId>,
) -> Result<Action, Problem> {
    let kind = *entry.action.get_ref();
    let (required, optional) = action_keys(kind);
    let takes = || {
        let quote = |keys: &[&str]| keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ");
        let optional =
            if optional.is_empty() { String::new() } else { format!(", optionally {}", quote(optional)) };
        format!("action \"{}\" takes {}{optional}", kind.keyword(), quote(required))
    };
    let keys = present_keys(entry);
    for (name, span) in &keys {
        if !required.contains(name) && !optional.contains(name) {
            return Problem::new(
                span.clone(),
                format!("{key}.{name}"),
                format!("\"{name}\" is not used by action \"{}\"", kind.keyword()),
            )
            .expected(takes())
            .into_err();
        }
    }
    for name in required {
        if !keys.iter().any(|(present, _)| present == name) {
            return Problem::new(
                entry.action.span(),
                format!("{key}.{name}"),
                format!("action \"{}\" needs \"{name}\"", kind.keyword()),
            )
            .expected(takes())
            .into_err();
        }
    }
    // Every required key is present from here on.
    let service = || {
        let pool = match pool {
            Some(pool) => pool,
            None => {
                one_pool(names, entry.service.as_ref().expect("checked above"), &format!("{key}.service"))?
            }
        };
        // A provider is no pool of ours: the timeline changes only how it answers.
        let answers = matches!(
            kind,
            ActionKindFile::LatencyMultiplier | ActionKindFile::CpuMultiplier | ActionKindFile::ErrorRate
        );
        if names.providers[pool.idx()] && !answers {
            let reference = entry.service.as_ref().expect("checked above");
            return Problem::new(
                reference.span(),
                format!("{key}.service"),
                format!(
                    "\"{}\" is a dependency's provider, which action \"{}\" does not apply to",
                    names.services[pool.idx()],
                    kind.keyword()
                ),
            )
            .expected("a service, or action \"latency_multiplier\" or \"error_rate\" for a provider")
            .into_err();
        }
        Ok(pool)
    };
    let client = || {
        let client = entry.client.as_ref().expect("checked above");
        lookup(&names.clients, client, &format!("{key}.client"), "client").map(ClientId::from_idx)
    };
    let over = || {
        entry.over.as_ref().map_or(Ok(SimDuration::ZERO), |over| check_delay(over, &format!("{key}.over")))
    };
    Ok(match kind {
        ActionKindFile::CpuMultiplier | ActionKindFile::LatencyMultiplier => {
            let service = service()?;
            let provider = names.providers[service.idx()];
            let latency = kind == ActionKindFile::LatencyMultiplier;
            if provider != latency {
                let (message, expected) = if provider {
                    (
                        "is a dependency's provider: it has a latency, not a CPU cost",
                        "action = \"latency_multiplier\"",
                    )
                } else {
                    ("is a service: its CPU cost changes, not a latency", "action = \"cpu_multiplier\"")
                };
                let reference = entry.service.as_ref().expect("checked above");
                return Problem::new(
                    reference.span(),
                    format!("{key}.service"),
                    format!("\"{}\" {message}", names.services[service.idx()]),
                )
                .expected(expected)
                .into_err();
            }
            let value = check_factor(entry.value.as_ref().expect("checked above"), &format!("{key}.value"))?;
            if latency {
                Action::LatencyMultiplier { service, value }
            } else {
                Action::CpuMultiplier { service, value }
            }
        }
        ActionKindFile::Metrics => {
            let reporting = entry.reporting.as_ref().expect("checked above");
            Action::Metrics {
                service: service()?,
                reporting: check_fraction(reporting, &format!("{key}.reporting"))?,
            }
        }
        ActionKindFile::InstanceLoss => {
            let count = entry.count.as_ref().expect("checked above");
            let count = check_count(count, &format!("{key}.count"), "count", 1..=MAX_INSTANCES)?;
            Action::InstanceLoss { service: service()?, count: count as u32 }
        }
        ActionKindFile::Backlog => {
            let jobs = check_count(
                entry.jobs.as_ref().expect("checked above"),
                &format!("{key}.jobs"),
                "jobs",
                1..=MAX_JOBS,
            )?;
            let class = match &entry.class {
                Some(class) => {
                    Some(ClassId::from_idx(lookup(&names.classes, class, &format!("{key}.class"), "class")?))
                }
                None => None,
            };
            let region = match &entry.region {
                Some(region) => Some(RegionId::from_idx(lookup(
                    &names.regions,
                    region,
                    &format!("{key}.region"),
                    "region",
                )?)),
                None => None,
            };
            Action::Backlog { client: client()?, class, jobs: jobs as u64, over: over()?, region }
        }
        ActionKindFile::ScaleTo => {
            let instances = entry.instances.as_ref().expect("checked above");
            let instances =
                check_count(instances, &format!("{key}.instances"), "instances", 0..=MAX_INSTANCES)?;
            Action::ScaleTo { service: service()?, instances: instances as u32 }
        }
        ActionKindFile::Admit => {
            let to = check_fraction(entry.to.as_ref().expect("checked above"), &format!("{key}.to"))?;
            let from =
                entry.from.as_ref().map(|from| check_fraction(from, &format!("{key}.from"))).transpose()?;
            Action::Admit { service: service()?, from, to, over: over()? }
        }
        ActionKindFile::Limiter => {
            let limiter = entry.limiter.as_ref().expect("checked above");
            let limiter = resolve_limiter_switch(limiter, &format!("{key}.limiter"))?;
            Action::Limiter { client: client()?, limiter }
        }
        ActionKindFile::ErrorRate => {
            let errors = entry.errors.as_ref().expect("checked above");
            Action::ErrorRate {
                service: service()?,
                value: check_fraction(errors, &format!("{key}.errors"))?,
            }
        }
        ActionKindFile::ZoneLoss | ActionKindFile::ZoneRestore => {
            let service = service()?;
            let zone = entry.zone.as_ref().expect("checked above");
            let zones: Vec<&str> = names.zones[service.idx()].iter().map(String::as_str).collect();
            let index = ZoneId::from_idx(lookup(&zones, zone, &format!("{key}.zone"), "zone")?);
            let name = zone.get_ref().clone();
            match kind {
                ActionKindFile::ZoneLoss => Action::ZoneLoss { service, zone: index, name },
                _ => Action::ZoneRestore { service, zone: index, name },
            }
        }
        ActionKindFile::RegionLoss | ActionKindFile::RegionRestore => {
            let (region, pools) = region_pools(entry, key, names)?;
            let name = names.regions[region.idx()].to_string();
            match kind {
                ActionKindFile::RegionLoss => Action::RegionLoss { region, name, pools },
                _ => Action::RegionRestore { region, name, pools },
            }
        }
    })
}

/// The region of a region action and the pools deployed there (of `service` only, when
/// given); at least one.
fn region_pools(entry: &ActionFile, key: &str, names: &Names) -> Result<(RegionId, Vec<ServiceId>), Problem> {
    let reference = entry.region.as_ref().expect("checked above");
    let region = RegionId::from_idx(lookup(&names.regions, reference, &format!("{key}.region"), "region")?);
    let in_region = |pool: &ServiceId| names.pool_regions[pool.idx()] == Some(region);
    let pools: Vec<ServiceId> = match &entry.service {
        Some(service) => {
            let group = names.groups.iter().find(|(name, _)| *name == service.get_ref().as_str());
            let candidates = match group {
                Some((_, pools)) => pools.clone(),
                None => vec![one_pool(names, service, &format!("{key}.service"))?],
            };
            let pools: Vec<ServiceId> = candidates.into_iter().filter(in_region).collect();
            if pools.is_empty() {
                return Problem::new(
                    service.span(),
                    format!("{key}.service"),
                    format!(
                        "service \"{}\" is not deployed in region \"{}\"",
                        service.get_ref(),
                        reference.get_ref()
                    ),
                )
                .expected(
                    "a service whose regions = [...] lists the region, or no service key for every one there",
                )
                .into_err();
            }
            pools
        }
        None => (0..names.services.len()).map(ServiceId::from_idx).filter(in_region).collect(),
    };
    if pools.is_empty() {
        return Problem::new(
            reference.span(),
            format!("{key}.region"),
            format!("no service is deployed in region \"{}\"", reference.get_ref()),
        )
        .expected("a region that some service's regions = [...] lists")
        .into_err();
    }
    Ok((region, pools))
}

pub(super) fn resolve_alerts(alerts: &Named<AlertFile>, names: &Names) -> Result<Vec<AlertSpec>, Problem> {
    alerts.iter().map(|(name, alert)| resolve_alert(name.get_ref(), alert, names)).collect()
}

fn resolve_alert(name: &str, alert: &AlertFile, names: &Names) -> Result<AlertSpec, Problem> {
    let key = |field: &str| format!("alerts.{name}.{field}");
    let metric_kind = *alert.metric.get_ref();
    let per_service = !matches!(metric_kind, AlertMetricFile::SuccessRate | AlertMetricFile::LatencyP99);
    let service = match (&alert.service, per_service) {
        (Some(service), true) => one_pool(names, service, &key("service"))?,
        (None, true) => {
            return Problem::new(
                alert.metric.span(),
                key("service"),
                format!("metric \"{}\" is per service", metric_kind.keyword()),
            )
            .expected(format!("service = one of {}", quoted_list(&names.services)))
            .into_err();
        }
        (Some(service), false) => {
            return Problem::new(
                service.span(),
                key("service"),
                format!("metric \"{}\" is per class, not per service", metric_kind.keyword()),
            )
            .expected("class = \"NAME\", or neither for all classes")
            .into_err();
        }
        (None, false) => ServiceId(0),
    };
    let class = match (&alert.class, per_service) {
        (Some(class), false) => {
            Some(ClassId::from_idx(lookup(&names.classes, class, &key("class"), "class")?))
        }
        (Some(class), true) => {
            return Problem::new(
                class.span(),
                key("class"),
                format!("metric \"{}\" is per service, not per class", metric_kind.keyword()),
            )
            .expected("service = \"NAME\"")
            .into_err();
        }
        (None, _) => None,
    };
    let metric = match metric_kind {
        AlertMetricFile::SuccessRate => AlertMetric::SuccessRate { class },
        AlertMetricFile::LatencyP99 => AlertMetric::LatencyP99 { class },
        AlertMetricFile::MetricsStaleness => AlertMetric::MetricsStaleness { service },
        AlertMetricFile::CpuUtilisation => AlertMetric::CpuUtilisation { service },
        AlertMetricFile::UnscaledUtilisation => AlertMetric::UnscaledUtilisation { service },
    };
    let (comparison, value, field) = match (&alert.below, &alert.above) {
        (Some(below), None) => (Comparison::Below, below, "below"),
        (None, Some(above)) => (Comparison::Above, above, "above"),
        (Some(_), Some(above)) => {
            return Problem::new(above.span(), key("above"), "an alert has one threshold")
                .expected("either below = ... or above = ..., not both")
                .into_err();
        }
        (None, None) => {
            return Problem::new(alert.metric.span(), key("below"), "an alert needs a threshold")
                .expected("below = \"99%\" or above = \"2s\", in the metric's unit")
                .into_err();
        }
    };
    let threshold = alert_threshold(metric_kind, value, &key(field))?;
    let hold = check_delay(present(&alert.hold, &key("for"))?, &key("for"))?;
    let then = match &alert.then {
        Some(then) => Some(resolve_operator_action(then, &key("then"), names)?),
        None => None,
    };
    Ok(AlertSpec { name: name.to_string(), metric, comparison, threshold, hold, then })
}

/// A threshold in the metric's unit: a fraction, milliseconds (latency) or seconds
/// (staleness).
fn alert_threshold(metric: AlertMetricFile, value: &Spanned<String>, key: &str) -> Result<f64, Problem> {
    let text = value.get_ref();
    let percent = matches!(
        metric,
        AlertMetricFile::SuccessRate | AlertMetricFile::CpuUtilisation | AlertMetricFile::UnscaledUtilisation
    );
    let parsed = if percent {
        text.parse::<Percent>().map(Percent::fraction).map_err(|error| error.0)
    } else {
        text.parse::<Duration>().map(|d| d.0.as_secs_f64()).map_err(|error| error.0)
    };
    let unit = if percent { "a percentage such as \"99%\"" } else { "a duration such as \"2s\"" };
    let value_secs = parsed.map_err(|message| {
        Problem::new(value.span(), key, message)
            .expected(format!("for metric \"{}\", {unit}", metric.keyword()))
    })?;
    Ok(match metric {
        AlertMetricFile::LatencyP99 => value_secs * 1e3,
        _ => value_secs,
    })
}

fn resolve_operator_action(then: &ActionFile, key: &str, names: &Names) -> Result<OperatorAction, Problem> {
    if let Some(at) = &then.at {
        return Problem::new(at.span(), format!("{key}.at"), "an operator action happens `after` the alert")
            .expected("after = \"20m\" (the operator's response time)")
            .into_err();
    }
    let Some(after) = &then.after else {
        return Problem::new(
            then.action.span(),
            format!("{key}.after"),
            "an operator action needs a response time",
        )
        .expected("after = \"20m\"")
        .into_err();
    };
    Ok(OperatorAction {
        after: check_delay(after, &format!("{key}.after"))?,
        action: resolve_action(then, key, names, None)?,
        note: then.note.clone(),
    })
}

pub(super) fn resolve_slo(file: &ScenarioFile) -> Result<Slo, Problem> {
    let slo = present(&file.slo, "slo")?;
    let rate = present(&slo.success_rate, "slo.success_rate")?;
    let success_rate = check_fraction(rate, "slo.success_rate")?;
    let recovery = present(&slo.recovery, "slo.recovery")?;
    Ok(Slo { success_rate, recovery: check_delay(recovery, "slo.recovery")? })
}

/// A fraction from 0% to 100%.
pub(super) fn check_fraction(value: &Spanned<Percent>, key: &str) -> Result<f64, Problem> {
    let fraction = value.get_ref().fraction();
    if fraction > 1.0 {
        return Problem::new(value.span(), key, format!("{} is above 100%", value.get_ref()))
            .expected("a percentage from 0% to 100%")
            .into_err();
    }
    Ok(fraction)
}

/// A multiplier above 0 and at most 1000.
pub(super) fn check_factor(value: &Spanned<Number>, key: &str) -> Result<f64, Problem> {
    let factor = value.get_ref().0;
    if factor > 0.0 && factor <= MAX_MULTIPLIER {
        return Ok(factor);
    }
    Problem::new(value.span(), key, format!("multiplier {factor} is out of range"))
        .expected(format!("a number above 0 and at most {MAX_MULTIPLIER}, such as 1.35"))
        .into_err()
}

/// A period from 1 s to a day.
fn check_period(value: &Spanned<Duration>, key: &str) -> Result<SimDuration, Problem> {
    let period = check_delay(value, key)?;
    if period >= MIN_PERIOD {
        return Ok(period);
    }
    Problem::new(value.span(), key, format!("period {} is below 1s", value.get_ref()))
        .expected("a duration from \"1s\" to \"1d\"")
        .into_err()
}
