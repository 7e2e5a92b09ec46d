//! Turns a parsed, default-filled file into the model's `Scenario`: names become ids, units
//! become nanoseconds and rates per second, distributions are fitted, and every range and
//! cross-field rule is checked.
//!
//! Invariants: this is the last gate before the simulation, which trusts its input, so
//! everything user-controlled is checked here (a run must never panic on user input). Each
//! refusal names the key, points at the value the user wrote (not at a filled-in default),
//! and says what would be valid, including the limit when a value is merely absurd.
//!
//! Ids follow the order of the named tables, which is the byte order of the names (see
//! `file`): class 0 is the alphabetically first `[classes.NAME]`, and so on.

use std::ops::Range;

use super::spanned::Spanned;

use super::checks::{check_count, lookup, names, present, time_from_start};
use super::defaults::is_filled;
use super::dependencies::{deploy_dependencies, resolve_dependencies, resolve_failover};
use super::error::Problem;
use super::file::{
    BackoffFile, BalancerFile, Capacity, ClassFile, ClientFile, CpuFile, CpuTable, CriticalityFile, DistFile,
    HedgeFile, HumanRetryFile, JitterFile, Named, RateFile, RetryFile, RetryOutcome, ScenarioFile,
    ServiceFile, SourceFile, SourceKindFile,
};
use super::limiter::resolve_limiter;
use super::operations::{Names, resolve_alerts, resolve_service_ops, resolve_slo, resolve_timeline};
use super::regions::{deploy, resolve_home, resolve_regions, resolve_routing, service_regions};
use super::units::{ClockTime, Duration, Percent, Rate, TimePoint};
use crate::calendar::{Calendar, CalendarError, timezone_names};
use crate::engine::{SimDuration, SimTime};
use crate::ids::{ClassId, ClientId, RegionId, ServiceId};
use crate::model::{
    Backoff, Balancer, Call, Client, CpuCost, Guard, Hedge, HumanRetry, Jitter, RateProfile, RequestClass,
    RetryOn, RetryPolicy, Scenario, Service, Source,
};
use crate::refusal::closest;

/// Longest run: 365 days. Longer is a typo (`"5d"` for `"5h"`?) or needs a different tool.
const MAX_DURATION: Duration = Duration(SimDuration::from_secs(365 * 86_400));
/// Most time-series intervals in a run: 1,000,000 (the series must stay small).
const MAX_INTERVALS: u64 = 1_000_000;
/// Most instances of one service: 100,000.
const MAX_INSTANCES: i64 = 100_000;
/// Most cores, and most workers, of one instance: 1,000,000.
const MAX_PER_INSTANCE: i64 = 1_000_000;
/// Highest arrival rate: 1e9 per second.
pub(super) const MAX_RATE_PER_SECOND: f64 = 1e9;
/// Most attempts of a retry policy: 100.
const MAX_ATTEMPTS: i64 = 100;
/// Largest queue capacity: the `u32` the model stores.
const MAX_QUEUE_CAPACITY: i64 = u32::MAX as i64;
/// Shares must sum to 100% within this (as fractions).
const SHARE_TOLERANCE: f64 = 1e-9;
/// The normal distribution's 99th percentile, for the lognormal bound in messages.
const Z99: f64 = 2.326_347_874_040_841;

/// Resolves a file that `defaults::fill` has completed.
pub(crate) fn resolve(file: &ScenarioFile) -> Result<Scenario, Problem> {
    let simulation = &file.simulation;
    let duration = check_duration(&simulation.duration)?;
    let start = check_start(simulation.start.as_ref())?;
    let calendar = check_calendar(simulation, start)?;
    let interval =
        check_interval(present(&simulation.interval, "simulation.interval")?, &simulation.duration)?;
    let seed =
        check_count(present(&simulation.seed, "simulation.seed")?, "simulation.seed", "seed", 0..=i64::MAX)?;
    let warmup = check_warmup(simulation.warmup.as_ref(), interval, duration)?;
    let classes = resolve_classes(&file.classes)?;
    let class_names = names(&file.classes);
    let regions = resolve_regions(&file.regions)?;
    let region_names = names(&file.regions);
    let regions_of = file
        .services
        .iter()
        .map(|(name, service)| service_regions(name.get_ref(), service, &region_names))
        .collect::<Result<Vec<_>, _>>()?;
    let (cells, cellular) = super::cells::resolve_cells(file)?;
    let services = resolve_services(&file.services, &class_names, &names(&file.clients), start)?;
    let dependencies = resolve_dependencies(&file.dependencies, &names(&file.services), class_names.len())?;
    let mut target_names = names(&file.services);
    target_names.extend(names(&file.dependencies));
    let mut clients = resolve_clients(&file.clients, &target_names, &regions_of)?;
    let targets: Vec<ServiceId> = clients.iter().map(|client| client.target).collect();
    check_call_cycles(file, &services, &clients)?;
    let mut sources = resolve_sources(&file.sources, &names(&file.clients), start)?;
    for (source, (name, file_source)) in sources.iter_mut().zip(&file.sources) {
        source.home = resolve_home(name.get_ref(), file_source, &region_names)?;
    }
    check_human_retries(file, &sources)?;
    let mut deployment = match cells.is_empty() {
        true => deploy(services, &regions_of, &regions),
        false => super::cells::deploy(services, &cellular, &cells),
    };
    let dependencies = deploy_dependencies(&mut deployment, dependencies);
    deployment.link(&mut clients);
    super::cells::link(&deployment, &cellular, &targets, &mut clients);
    let release =
        super::cells::resolve_release(file, &cells, &cellular, &deployment.pools_of, start, duration)?;
    let pool_names: Vec<&str> = deployment.pools.iter().map(|pool| pool.name.as_str()).collect();
    let ops_names = Names {
        classes: class_names.clone(),
        clients: names(&file.clients),
        services: pool_names,
        groups: target_names
            .iter()
            .zip(&deployment.pools_of)
            .enumerate()
            .filter(|&(target, _)| {
                // A dependency (numbered after the services), a service with regions or cells.
                regions_of.get(target).is_none_or(Option::is_some)
                    || cellular.get(target).copied().unwrap_or(false)
            })
            .map(|(_, (&name, pools))| (name, pools.clone()))
            .collect(),
        regions: region_names.clone(),
        pool_regions: deployment.pools.iter().map(|pool| pool.region).collect(),
        zones: deployment.pools.iter().map(|service| service.zones.clone()).collect(),
        providers: deployment.pools.iter().map(|pool| pool.external).collect(),
        start,
        duration,
    };
    let timeline = resolve_timeline(file, &ops_names)?;
    let alerts = resolve_alerts(&file.alerts, &ops_names)?;
    let slo = resolve_slo(file)?;
    Ok(Scenario {
        name: present(&simulation.name, "simulation.name")?.clone(),
        description: present(&simulation.description, "simulation.description")?.clone(),
        duration,
        start_clock: start.map(ClockTime::since_midnight),
        calendar,
        interval,
        warmup,
        seed: seed as u64,
        guard: resolve_guard(file)?,
        classes,
        sources,
        clients,
        services: deployment.pools,
        regions,
        dependencies,
        cells,
        release,
        timeline,
        alerts,
        slo,
        variant: None,
        hash: String::new(),
    })
}

// ---------------------------------------------------------------------------------------
// [simulation] and [guard]
// ---------------------------------------------------------------------------------------

/// What a trace needs of `[simulation]` to be placed on the run, checked as `resolve`
/// checks it.
pub(super) fn trace_frame(file: &ScenarioFile) -> Result<super::trace::Frame, Problem> {
    let simulation = &file.simulation;
    let duration = check_duration(&simulation.duration)?;
    let start = check_start(simulation.start.as_ref())?;
    let calendar = check_calendar(simulation, start)?;
    let zone = calendar.as_ref().and_then(|calendar| jiff::tz::TimeZone::get(&calendar.timezone).ok());
    Ok(super::trace::Frame {
        duration,
        origin_unix_s: calendar.as_ref().map(|calendar| calendar.origin_unix_s),
        zone: zone.unwrap_or(jiff::tz::TimeZone::UTC),
    })
}

fn check_duration(duration: &Spanned<Duration>) -> Result<SimDuration, Problem> {
    let value = *duration.get_ref();
    let problem = |message: String| Problem::new(duration.span(), "simulation.duration", message);
    if value.nanos() == 0 {
        return problem("duration is zero".into())
            .expected("a duration above zero such as \"5h\"")
            .into_err();
    }
    if value > MAX_DURATION {
        let message = format!("duration {value} is above the limit of {MAX_DURATION}");
        return problem(message).expected(format!("a duration up to {MAX_DURATION}")).into_err();
    }
    Ok(value.0)
}

/// The clock time of t = 0, which must be on the scenario's first day.
fn check_start(start: Option<&Spanned<ClockTime>>) -> Result<Option<ClockTime>, Problem> {
    let Some(start) = start else { return Ok(None) };
    let clock = *start.get_ref();
    if clock.since_midnight() >= SimDuration::from_secs(86_400) {
        let message = format!("start {clock} is not on the first day");
        return Problem::new(start.span(), "simulation.start", message)
            .expected("a clock time \"HH:MM\" without \"+Nd\"")
            .into_err();
    }
    Ok(Some(clock))
}

/// A date needs a start clock time, a time zone needs a date; the date is a real day and the
/// zone one the bundled database knows.
fn check_calendar(
    simulation: &super::file::SimulationFile,
    start: Option<ClockTime>,
) -> Result<Option<Calendar>, Problem> {
    let Some(date) = &simulation.date else {
        return match simulation.timezone.as_ref().filter(|zone| !is_filled(zone)) {
            Some(zone) => Problem::new(zone.span(), "simulation.timezone", "a time zone without a date")
                .expected("date = \"2026-02-23\" beside it (and a start), or no timezone")
                .into_err(),
            None => Ok(None),
        };
    };
    let Some(start) = start else {
        return Problem::new(date.span(), "simulation.date", "a date without a start clock time")
            .expected("start = \"09:00\" beside it: the date is the day of the start")
            .into_err();
    };
    let zone = present(&simulation.timezone, "simulation.timezone")?;
    let clock_s = start.since_midnight().0 / 1_000_000_000;
    match Calendar::new(date.get_ref(), clock_s, zone.get_ref()) {
        Ok(calendar) => Ok(Some(calendar)),
        Err(CalendarError::Date(reason)) => Problem::new(
            date.span(),
            "simulation.date",
            format!("\"{}\" is not a date: {reason}", date.get_ref()),
        )
        .expected("a date \"YYYY-MM-DD\", such as \"2026-02-23\"")
        .into_err(),
        Err(CalendarError::TimeZone) => {
            let names = timezone_names();
            let hint = closest(zone.get_ref(), names.iter().map(String::as_str))
                .map(|name| format!(" (did you mean \"{name}\"?)"))
                .unwrap_or_default();
            Problem::new(
                zone.span(),
                "simulation.timezone",
                format!("unknown time zone \"{}\"{hint}", zone.get_ref()),
            )
            .expected("an IANA time zone name, such as \"America/New_York\", \"Europe/Paris\" or \"UTC\"")
            .into_err()
        }
    }
}

/// The interval must be above zero, fit in the duration, and not split the run into an
/// absurd number of intervals. When it is the default, a conflict is the duration's fault.
fn check_interval(
    interval: &Spanned<Duration>,
    duration: &Spanned<Duration>,
) -> Result<SimDuration, Problem> {
    let (width, run) = (*interval.get_ref(), *duration.get_ref());
    if width.nanos() == 0 {
        let problem = Problem::new(interval.span(), "simulation.interval", "interval is zero");
        return problem.expected(format!("an interval above zero, at most the duration {run}")).into_err();
    }
    if width > run {
        if is_filled(interval) {
            let message = format!("duration {run} is shorter than the default interval {width}");
            let expected = format!("a duration of at least {width}, or a shorter simulation.interval");
            return Problem::new(duration.span(), "simulation.duration", message)
                .expected(expected)
                .into_err();
        }
        let message = format!("interval {width} is longer than the duration {run}");
        return Problem::new(interval.span(), "simulation.interval", message)
            .expected(format!("an interval up to {run}"))
            .into_err();
    }
    let n_intervals = run.nanos().div_ceil(width.nanos());
    if n_intervals > MAX_INTERVALS {
        let shortest = Duration(SimDuration(run.nanos().div_ceil(MAX_INTERVALS)));
        let message = format!(
            "interval {width} splits the {run} run into {n_intervals} intervals, above the limit of {MAX_INTERVALS}"
        );
        let key = if is_filled(interval) { "simulation.duration" } else { "simulation.interval" };
        let span = if is_filled(interval) { duration.span() } else { interval.span() };
        return Problem::new(span, key, message)
            .expected(format!("an interval of at least {shortest}"))
            .into_err();
    }
    Ok(width.0)
}

/// The warm-up ends on an interval boundary (statistics are reset as an interval closes, so
/// every row is wholly in or wholly out) and before the end, leaving something to measure.
fn check_warmup(
    warmup: Option<&Spanned<Duration>>,
    interval: SimDuration,
    duration: SimDuration,
) -> Result<SimDuration, Problem> {
    let Some(warmup) = warmup else { return Ok(SimDuration::ZERO) };
    let value = *warmup.get_ref();
    let problem = |message: String| Problem::new(warmup.span(), "simulation.warmup", message);
    let (run, width) = (Duration(duration), Duration(interval));
    if value.0 >= duration {
        let message = format!("warmup {value} is not shorter than the duration {run}");
        return problem(message).expected(format!("a warm-up shorter than {run}, or none")).into_err();
    }
    if value.nanos() % interval.0 != 0 {
        let below = Duration(SimDuration(value.nanos() / interval.0 * interval.0));
        let above = Duration(SimDuration(below.nanos() + interval.0));
        let choices = match (below.nanos() > 0, above.0 < duration) {
            (true, true) => format!("such as {below} or {above}"),
            (true, false) => format!("such as {below}"),
            (false, true) => format!("such as {above}"),
            (false, false) => "but the run has room for none".to_owned(),
        };
        let message = format!("warmup {value} is not a whole number of intervals of {width}");
        let expected = format!("a multiple of simulation.interval ({width}) shorter than {run}, {choices}");
        return problem(message).expected(expected).into_err();
    }
    Ok(value.0)
}

fn resolve_guard(file: &ScenarioFile) -> Result<Guard, Problem> {
    let guard = present(&file.guard, "guard")?;
    let max_in_flight = present(&guard.max_in_flight, "guard.max_in_flight")?;
    let max_events = present(&guard.max_events, "guard.max_events")?;
    Ok(Guard {
        max_in_flight: check_count(max_in_flight, "guard.max_in_flight", "max_in_flight", 1..=i64::MAX)?
            as u64,
        max_events: check_count(max_events, "guard.max_events", "max_events", 1..=i64::MAX)? as u64,
    })
}

// ---------------------------------------------------------------------------------------
// [classes]
// ---------------------------------------------------------------------------------------

/// At least one class; each share in (0%, 100%]; shares summing to 100%.
fn resolve_classes(classes: &Named<ClassFile>) -> Result<Vec<RequestClass>, Problem> {
    if classes.is_empty() {
        return Problem::new(0..0, "classes", "no request class is defined")
            .expected("at least one [classes.NAME] table, e.g. [classes.default]")
            .into_err();
    }
    let mut resolved = Vec::with_capacity(classes.len());
    let mut last_share_span = 0..0;
    for (name, class) in classes {
        let key = format!("classes.{}.share", name.get_ref());
        let Some(share) = &class.share else {
            let message = format!("class \"{}\" has no share", name.get_ref());
            let expected = "share = \"NN%\" in every class when there are several, summing to 100%";
            return Problem::new(name.span(), key, message).expected(expected).into_err();
        };
        let percent = share.get_ref().percent();
        if !(percent > 0.0 && percent <= 100.0) {
            let message = format!("share {} is outside (0%, 100%]", share.get_ref());
            return Problem::new(share.span(), key, message)
                .expected("a share above 0% and at most 100%")
                .into_err();
        }
        last_share_span = share.span();
        let sheddable = class.criticality == Some(CriticalityFile::Sheddable);
        resolved.push(RequestClass {
            name: name.get_ref().clone(),
            share: share.get_ref().fraction(),
            sheddable,
        });
    }
    check_share_sum(&resolved, last_share_span)?;
    Ok(resolved)
}

fn check_share_sum(classes: &[RequestClass], span: Range<usize>) -> Result<(), Problem> {
    let sum: f64 = classes.iter().map(|class| class.share).sum();
    if (sum - 1.0).abs() <= SHARE_TOLERANCE {
        return Ok(());
    }
    let parts: Vec<String> =
        classes.iter().map(|class| format!("{} {}", class.name, percent_text(class.share))).collect();
    let message = format!("class shares sum to {} ({})", percent_text(sum), parts.join(", "));
    Problem::new(span, "classes", message).expected("shares summing to 100%").into_err()
}

/// A fraction as a percentage for a message, rounded to 9 decimals (0.07 is "7%", not
/// "7.000000000000001%").
fn percent_text(fraction: f64) -> String {
    format!("{}%", (fraction * 100.0 * 1e9).round() / 1e9)
}

// ---------------------------------------------------------------------------------------
// [services]
// ---------------------------------------------------------------------------------------

fn resolve_services(
    services: &Named<ServiceFile>,
    class_names: &[&str],
    client_names: &[&str],
    start: Option<ClockTime>,
) -> Result<Vec<Service>, Problem> {
    if services.is_empty() {
        return Problem::new(0..0, "services", "no service is defined")
            .expected("at least one [services.NAME] table with instances, cores and cpu")
            .into_err();
    }
    services
        .iter()
        .map(|(name, service)| resolve_service(name.get_ref(), service, class_names, client_names, start))
        .collect()
}

fn resolve_service(
    name: &str,
    service: &ServiceFile,
    class_names: &[&str],
    client_names: &[&str],
    start: Option<ClockTime>,
) -> Result<Service, Problem> {
    let key = |field: &str| format!("services.{name}.{field}");
    let instances = check_count(&service.instances, &key("instances"), "instances", 1..=MAX_INSTANCES)?;
    let cores = check_count(&service.cores, &key("cores"), "cores", 1..=MAX_PER_INSTANCE)?;
    let workers = present(&service.workers, &key("workers"))?;
    let workers = check_count(workers, &key("workers"), "workers", 1..=MAX_PER_INSTANCE)?;
    let queue = present(&service.queue, &key("queue"))?;
    let capacity = present(&queue.capacity, &key("queue.capacity"))?;
    let balancer = *present(&service.balancer, &key("balancer"))?;
    let ops = resolve_service_ops(name, service, start)?;
    if let Some(autoscaler) = &ops.autoscaler
        && !(autoscaler.min..=autoscaler.max).contains(&(instances as u32))
    {
        let message = format!(
            "{instances} instances is outside the autoscaler's {}..={}",
            autoscaler.min, autoscaler.max
        );
        return Problem::new(service.instances.span(), key("instances"), message)
            .expected("a starting count within autoscaler.min and autoscaler.max")
            .into_err();
    }
    Ok(Service {
        name: name.to_string(),
        instances: instances as u32,
        cores: cores as u32,
        workers: workers as u32,
        queue_capacity: check_capacity(capacity, &key("queue.capacity"))?,
        balancer: balancer_of(balancer),
        cpu: resolve_service_cpu(name, service, class_names)?,
        cpu_multiplier: ops.cpu_multiplier,
        lifecycle: ops.lifecycle,
        metrics: ops.metrics,
        autoscaler: ops.autoscaler,
        overload: ops.overload,
        connection_cpu: ops.connection_cpu,
        pooled: ops.pooled,
        calls: resolve_calls(name, service, class_names, client_names)?,
        parallel_calls: *present(&service.parallel_calls, &key("parallel_calls"))?,
        error_rate: check_error_rate(present(&service.error_rate, &key("error_rate"))?, &key("error_rate"))?,
        // A service with regions gets each region's zones when it is deployed.
        zones: match &service.regions {
            Some(_) => vec![],
            None => check_zones(present(&service.zones, &key("zones"))?, &key("zones"))?,
        },
        region: None,
        external: false,
        cell: None,
    })
}

fn check_error_rate(rate: &Spanned<Percent>, key: &str) -> Result<f64, Problem> {
    let fraction = rate.get_ref().fraction();
    if fraction > 1.0 {
        return Problem::new(rate.span(), key, format!("{} is above 100%", rate.get_ref()))
            .expected("a percentage from 0% to 100%")
            .into_err();
    }
    Ok(fraction)
}

/// At least one zone, at most 64, names unique and not empty.
fn check_zones(zones: &Spanned<Vec<String>>, key: &str) -> Result<Vec<String>, Problem> {
    let list = zones.get_ref();
    let problem = |message: String| {
        Problem::new(zones.span(), key, message)
            .expected("a list of 1 to 64 distinct zone names, such as [\"a\", \"b\", \"c\"]")
    };
    if list.is_empty() || list.len() > 64 {
        return problem(format!("{} zones", list.len())).into_err();
    }
    for (index, zone) in list.iter().enumerate() {
        if zone.is_empty() || list[..index].contains(zone) {
            return problem(format!("zone \"{zone}\" is empty or repeated")).into_err();
        }
    }
    Ok(list.clone())
}

/// Most calls one entry of `calls` makes: 1000.
const MAX_CALLS: i64 = 1000;

fn resolve_calls(
    name: &str,
    service: &ServiceFile,
    class_names: &[&str],
    client_names: &[&str],
) -> Result<Vec<Call>, Problem> {
    let mut calls = Vec::with_capacity(service.calls.len());
    for (index, call) in service.calls.iter().enumerate() {
        let key = |field: &str| format!("services.{name}.calls[{index}].{field}");
        let client = ClientId::from_idx(lookup(client_names, &call.client, &key("client"), "client")?);
        let class = match &call.class {
            Some(class) => Some(ClassId::from_idx(lookup(class_names, class, &key("class"), "class")?)),
            None => None,
        };
        let count = check_count(present(&call.count, &key("count"))?, &key("count"), "count", 0..=MAX_CALLS)?;
        let probability = present(&call.probability, &key("probability"))?;
        if probability.get_ref().fraction() > 1.0 {
            return Problem::new(
                probability.span(),
                key("probability"),
                format!("{} is above 100%", probability.get_ref()),
            )
            .expected("a percentage from 0% to 100%")
            .into_err();
        }
        calls.push(Call {
            client,
            class,
            count: count as u32,
            probability: probability.get_ref().fraction(),
        });
    }
    Ok(calls)
}

/// A service must not reach itself through its calls: each attempt would call forever.
fn check_call_cycles(file: &ScenarioFile, services: &[Service], clients: &[Client]) -> Result<(), Problem> {
    // A call to a dependency ends there: only services call on.
    let downstream = |service: usize| {
        services[service]
            .calls
            .iter()
            .map(|call| clients[call.client.idx()].target.idx())
            .filter(|&target| target < services.len())
    };
    for start in 0..services.len() {
        // Depth-first from `start`, looking for a path back to it.
        let mut stack: Vec<(usize, Vec<usize>)> = downstream(start).map(|next| (next, vec![start])).collect();
        let mut seen = vec![false; services.len()];
        while let Some((service, path)) = stack.pop() {
            if service == start {
                let (name, table) = file.services.iter().nth(start).expect("resolved from this table");
                let mut chain: Vec<&str> = path.iter().map(|&s| services[s].name.as_str()).collect();
                chain.push(&services[start].name);
                let span = table.calls.first().map_or(name.span(), |call| call.client.span());
                return Problem::new(
                    span,
                    format!("services.{}.calls", name.get_ref()),
                    format!("calls loop back: {}", chain.join(" -> ")),
                )
                .expected("calls that end at services without calls of their own")
                .into_err();
            }
            if !std::mem::replace(&mut seen[service], true) {
                let mut next_path = path.clone();
                next_path.push(service);
                stack.extend(downstream(service).map(|next| (next, next_path.clone())));
            }
        }
    }
    Ok(())
}

fn check_capacity(capacity: &Spanned<Capacity>, key: &str) -> Result<Option<u32>, Problem> {
    match *capacity.get_ref() {
        Capacity::Unbounded => Ok(None),
        Capacity::Bounded(count) if (0..=MAX_QUEUE_CAPACITY).contains(&count) => Ok(Some(count as u32)),
        Capacity::Bounded(count) => {
            let message = if count < 0 {
                format!("queue capacity {count} is negative")
            } else {
                format!("queue capacity {count} is above the limit of {MAX_QUEUE_CAPACITY}")
            };
            let expected = format!("a count from 0 to {MAX_QUEUE_CAPACITY}, or \"unbounded\"");
            Problem::new(capacity.span(), key, message).expected(expected).into_err()
        }
    }
}

fn balancer_of(balancer: BalancerFile) -> Balancer {
    match balancer {
        BalancerFile::RoundRobin => Balancer::RoundRobin,
        BalancerFile::Random => Balancer::Random,
        BalancerFile::LeastOutstanding => Balancer::LeastOutstanding,
        BalancerFile::PowerOfTwoChoices => Balancer::PowerOfTwoChoices,
    }
}

/// The service's CPU cost for every class, by class id: its `cpu`, unless a
/// `[services.NAME.classes.CLASS]` table overrides it.
fn resolve_service_cpu(
    name: &str,
    service: &ServiceFile,
    class_names: &[&str],
) -> Result<Vec<CpuCost>, Problem> {
    let default_cost = resolve_cpu(&service.cpu, &format!("services.{name}.cpu"))?;
    let mut costs = vec![default_cost; class_names.len()];
    for (class, class_cpu) in &service.classes {
        let class_key = format!("services.{name}.classes.{}", class.get_ref());
        let class_idx = lookup(class_names, class, &class_key, "class")?;
        costs[class_idx] = resolve_cpu(&class_cpu.cpu, &format!("{class_key}.cpu"))?;
    }
    Ok(costs)
}

/// A CPU cost: the distribution gets exactly the keys it needs, every duration is above
/// zero, and a lognormal's p99 is one a lognormal with that mean can have.
pub(super) fn resolve_cpu(cpu: &Spanned<CpuFile>, key: &str) -> Result<CpuCost, Problem> {
    resolve_time_distribution(cpu, key, &CPU_COST)
}

/// What a distribution of durations is, for messages: its name, and what would be valid
/// instead of zero.
pub(super) struct TimeKind {
    pub what: &'static str,
    pub above_zero: &'static str,
}

const CPU_COST: TimeKind = TimeKind { what: "cpu cost", above_zero: "a cost above zero such as \"20ms\"" };

/// A distribution of durations written as a CPU cost is (a think time, a provider's
/// latency).
pub(super) fn resolve_time_distribution(
    cpu: &Spanned<CpuFile>,
    key: &str,
    what: &TimeKind,
) -> Result<CpuCost, Problem> {
    let table = match cpu.get_ref() {
        CpuFile::Constant(value) => {
            let value = Spanned::new(cpu.span(), *value);
            return Ok(CpuCost::Constant(positive_cost(&value, key, what)?));
        }
        CpuFile::Table(table) => table,
    };
    let dist = *table.dist.get_ref();
    let needed = |field: &'static str, value: &Option<Spanned<Duration>>| {
        let value = value.as_ref().ok_or_else(|| missing_cpu_key(cpu, key, dist, field))?;
        positive_cost(value, &format!("{key}.{field}"), what)
    };
    match dist {
        DistFile::Constant => {
            refuse_cpu_keys(table, key, &["mean", "p99"])?;
            Ok(CpuCost::Constant(needed("value", &table.value)?))
        }
        DistFile::Exponential => {
            refuse_cpu_keys(table, key, &["value", "p99"])?;
            Ok(CpuCost::Exponential { mean: needed("mean", &table.mean)? })
        }
        DistFile::Lognormal => {
            refuse_cpu_keys(table, key, &["value"])?;
            let mean = needed("mean", &table.mean)?;
            needed("p99", &table.p99)?;
            fit_lognormal(mean, table, key)
        }
    }
}

/// The keys each distribution takes, for messages.
fn cpu_example(dist: DistFile) -> &'static str {
    match dist {
        DistFile::Constant => r#"{ dist = "constant", value = "20ms" }"#,
        DistFile::Exponential => r#"{ dist = "exponential", mean = "20ms" }"#,
        DistFile::Lognormal => r#"{ dist = "lognormal", mean = "20ms", p99 = "60ms" }"#,
    }
}

fn missing_cpu_key(cpu: &Spanned<CpuFile>, key: &str, dist: DistFile, field: &str) -> Problem {
    let message = format!("dist \"{}\" needs \"{field}\"", dist.keyword());
    Problem::new(cpu.span(), format!("{key}.{field}"), message).expected(cpu_example(dist))
}

/// Refuses keys that the table's distribution does not take.
fn refuse_cpu_keys(table: &CpuTable, key: &str, refused: &[&str]) -> Result<(), Problem> {
    let keys = [("value", &table.value), ("mean", &table.mean), ("p99", &table.p99)];
    for (field, value) in keys {
        let Some(value) = value else { continue };
        if refused.contains(&field) {
            let dist = *table.dist.get_ref();
            let message = format!("\"{field}\" does not apply to dist \"{}\"", dist.keyword());
            return Problem::new(value.span(), format!("{key}.{field}"), message)
                .expected(cpu_example(dist))
                .into_err();
        }
    }
    Ok(())
}

fn positive_cost(value: &Spanned<Duration>, key: &str, what: &TimeKind) -> Result<SimDuration, Problem> {
    if value.get_ref().nanos() == 0 {
        let problem = Problem::new(value.span(), key, format!("{} is zero", what.what));
        return problem.expected(what.above_zero).into_err();
    }
    Ok(value.get_ref().0)
}

/// Fits the lognormal, or explains why no lognormal has this mean and p99: its
/// `p99 / mean = exp(z*sigma - sigma^2/2)` is above 1 only for `sigma < 2z` and peaks at
/// `e^(z^2/2)` (about 14.97) for `sigma = z`, z = 2.326 being the normal 99th percentile.
fn fit_lognormal(mean: SimDuration, table: &CpuTable, key: &str) -> Result<CpuCost, Problem> {
    let p99 = present(&table.p99, key)?;
    let (mean_secs, p99_secs) = (mean.as_secs_f64(), p99.get_ref().0.as_secs_f64());
    if let Some(cost) = CpuCost::lognormal_from_mean_p99(mean_secs, p99_secs) {
        return Ok(cost);
    }
    let (mean_text, p99_text) = (Duration(mean), *p99.get_ref());
    let p99_key = format!("{key}.p99");
    if p99_secs <= mean_secs {
        let message = format!("lognormal p99 {p99_text} is not above its mean {mean_text}");
        let expected = format!("a p99 above the mean {mean_text} (a lognormal's tail is above its mean)");
        return Problem::new(p99.span(), p99_key, message).expected(expected).into_err();
    }
    let ratio_limit = (Z99 * Z99 / 2.0).exp();
    let highest = Duration(SimDuration::from_secs_f64(mean_secs * ratio_limit));
    let message = format!(
        "lognormal p99 {p99_text} is {:.2} x its mean {mean_text}, more than any lognormal allows",
        p99_secs / mean_secs
    );
    let expected = format!(
        "a p99 of at most {ratio_limit:.2} x the mean, {highest}: a lognormal's p99/mean = exp(z*sigma - sigma^2/2) peaks at e^(z^2/2) = {ratio_limit:.2} for sigma = z = 2.326"
    );
    Problem::new(p99.span(), p99_key, message).expected(expected).into_err()
}

// ---------------------------------------------------------------------------------------
// [clients]
// ---------------------------------------------------------------------------------------

/// Clients with their targets as services of the file (in one place or in regions) or
/// dependencies (numbered after the services); the deployment points them at pools
/// afterwards.
fn resolve_clients(
    clients: &Named<ClientFile>,
    service_names: &[&str],
    regions_of: &[Option<Vec<RegionId>>],
) -> Result<Vec<Client>, Problem> {
    clients
        .iter()
        .map(|(name, client)| resolve_client(name.get_ref(), client, service_names, regions_of))
        .collect()
}

fn resolve_client(
    name: &str,
    client: &ClientFile,
    service_names: &[&str],
    regions_of: &[Option<Vec<RegionId>>],
) -> Result<Client, Problem> {
    let key = format!("clients.{name}");
    let kind = if service_names.len() > regions_of.len() { "service or dependency" } else { "service" };
    let target = lookup(service_names, &client.target, &format!("{key}.target"), kind)?;
    let router = match (regions_of.get(target), &client.failover) {
        (None, Some(failover)) => {
            if let Some(routing) = &client.routing {
                return Problem::new(
                    routing.span(),
                    format!("{key}.routing"),
                    format!("\"{}\" is a dependency: its providers are not regions", service_names[target]),
                )
                .expected(format!("[{key}.failover] for failover between its providers"))
                .into_err();
            }
            Some(resolve_failover(name, failover)?)
        }
        (Some(regions), failover) => {
            if let Some(failover) = failover.as_ref().filter(|failover| !is_filled(failover)) {
                return Problem::new(
                    failover.span(),
                    format!("{key}.failover"),
                    format!("\"{}\" is a service, not a dependency with providers", service_names[target]),
                )
                .expected("failover only on a client whose target is a [dependencies.NAME]")
                .into_err();
            }
            resolve_routing(name, client.routing.as_ref(), service_names[target], regions.is_some())?
        }
        (None, None) => {
            // `defaults::fill` gives every client of a dependency its failover table.
            return Problem::new(client.target.span(), format!("{key}.failover"), "no failover table")
                .expected(format!("[{key}.failover]"))
                .into_err();
        }
    };
    let timeout = match &client.timeout {
        Some(timeout) if timeout.get_ref().nanos() == 0 => {
            let problem = Problem::new(
                timeout.span(),
                format!("{key}.timeout"),
                "timeout is zero, so every attempt would fail",
            );
            return problem.expected("a timeout above zero, or no timeout key to wait for ever").into_err();
        }
        Some(timeout) => Some(timeout.get_ref().0),
        None => None,
    };
    let retry = resolve_retry(present(&client.retry, &format!("{key}.retry"))?, &format!("{key}.retry"))?;
    let limiter =
        client.limiter.as_ref().map(|name| resolve_limiter(name, &format!("{key}.limiter"))).transpose()?;
    let propagate_deadline = *present(&client.propagate_deadline, &format!("{key}.propagate_deadline"))?;
    let deadline = client
        .deadline
        .as_ref()
        .map(|deadline| positive(deadline, &format!("{key}.deadline")))
        .transpose()?;
    // A retry table may still say which failures are non-fatal; only retries written out
    // conflict with hedging.
    let retries_written = client
        .retry
        .as_ref()
        .and_then(|retry| retry.max_attempts.as_ref())
        .is_some_and(|attempts| !is_filled(attempts) && attempts.get_ref().0 > 1);
    let hedge =
        client.hedge.as_ref().map(|hedge| resolve_hedge(hedge, retries_written, &retry, &key)).transpose()?;
    let human_retry =
        client.human_retry.as_ref().map(|human| resolve_human_retry(human, &key)).transpose()?;
    Ok(Client {
        name: name.to_string(),
        target: ServiceId::from_idx(target),
        timeout,
        retry,
        limiter,
        propagate_deadline,
        deadline,
        hedge,
        human_retry,
        router,
        cell_pools: vec![],
    })
}

/// A duration above zero, or an error saying so.
fn positive(value: &Spanned<Duration>, key: &str) -> Result<SimDuration, Problem> {
    if value.get_ref().nanos() == 0 {
        let message = format!("{} is zero", key.rsplit('.').next().unwrap_or(key));
        return Problem::new(value.span(), key, message)
            .expected("a duration above zero, such as \"50ms\"")
            .into_err();
    }
    Ok(value.get_ref().0)
}

/// Most attempts of a hedging policy: gRPC caps `maxAttempts` at 5.
const MAX_HEDGED_ATTEMPTS: i64 = 5;

/// delay > 0, 2..=5 attempts, and no retries beside it (gRPC: a method has a retry
/// policy or a hedging policy, not both).
fn resolve_hedge(
    hedge: &Spanned<HedgeFile>,
    retries_written: bool,
    retry: &RetryPolicy,
    key: &str,
) -> Result<Hedge, Problem> {
    let key = format!("{key}.hedge");
    let file = hedge.get_ref();
    let delay = positive(&file.delay, &format!("{key}.delay"))?;
    let max_attempts = match &file.max_attempts {
        Some(count) => {
            check_count(count, &format!("{key}.max_attempts"), "max_attempts", 2..=MAX_HEDGED_ATTEMPTS)?
                as u32
        }
        None => 2,
    };
    if retries_written {
        let message = format!(
            "the client both retries (max_attempts = {}) and hedges; gRPC allows one or the other",
            retry.max_attempts
        );
        let expected = "hedge.max_attempts for the attempts in all, and retry.max_attempts = 1 (or no retry table); \
                        retry.on still says which failures send the next hedge at once";
        return Problem::new(hedge.span(), key, message).expected(expected).into_err();
    }
    Ok(Hedge { delay, max_attempts })
}

/// probability in [0, 100%], think time > 0, 1..=100 tries by hand.
fn resolve_human_retry(human: &Spanned<HumanRetryFile>, key: &str) -> Result<HumanRetry, Problem> {
    let key = format!("{key}.human_retry");
    let file = human.get_ref();
    let probability = &file.probability;
    if probability.get_ref().fraction() > 1.0 {
        let message = format!("{} is above 100%", probability.get_ref());
        return Problem::new(probability.span(), format!("{key}.probability"), message)
            .expected("a share of users between 0% and 100%")
            .into_err();
    }
    let think_time = positive(&file.think_time, &format!("{key}.think_time"))?;
    let max_retries = match &file.max_retries {
        Some(count) => {
            check_count(count, &format!("{key}.max_retries"), "max_retries", 1..=MAX_ATTEMPTS)? as u32
        }
        None => 1,
    };
    Ok(HumanRetry { probability: probability.get_ref().fraction(), think_time, max_retries })
}

/// Only users retry by hand: a client with `human_retry` must be a source's client.
fn check_human_retries(file: &ScenarioFile, sources: &[Source]) -> Result<(), Problem> {
    for (idx, (name, client)) in file.clients.iter().enumerate() {
        let Some(human) = &client.human_retry else { continue };
        if !sources.iter().any(|source| source.client.idx() == idx) {
            let message = format!(
                "client \"{}\" is not a source's client, so no user waits on it to try again",
                name.get_ref()
            );
            return Problem::new(human.span(), format!("clients.{}.human_retry", name.get_ref()), message)
                .expected("human_retry on a client that a [sources.NAME] uses, or no human_retry here")
                .into_err();
        }
    }
    Ok(())
}

/// max_attempts in 1..=100; a policy that may retry must say what it retries on.
fn resolve_retry(retry: &RetryFile, key: &str) -> Result<RetryPolicy, Problem> {
    let attempts_key = format!("{key}.max_attempts");
    let max_attempts = check_count(
        present(&retry.max_attempts, &attempts_key)?,
        &attempts_key,
        "max_attempts",
        1..=MAX_ATTEMPTS,
    )?;
    let on = present(&retry.on, &format!("{key}.on"))?;
    let retry_on = RetryOn {
        timeout: on.get_ref().contains(&RetryOutcome::Timeout),
        rejected: on.get_ref().contains(&RetryOutcome::Rejected),
        error: on.get_ref().contains(&RetryOutcome::Error),
    };
    if max_attempts > 1 && on.get_ref().is_empty() {
        let message = format!(
            "max_attempts is {max_attempts} but \"on\" is empty, so no attempt would ever be retried"
        );
        let expected = r#"on = ["timeout"], ["rejected"] or both, or max_attempts = 1 for no retries"#;
        return Problem::new(on.span(), format!("{key}.on"), message).expected(expected).into_err();
    }
    let backoff =
        resolve_backoff(present(&retry.backoff, &format!("{key}.backoff"))?, &format!("{key}.backoff"))?;
    Ok(RetryPolicy { max_attempts: max_attempts as u32, backoff, retry_on })
}

/// multiplier finite and >= 1; cap >= base (the error points at whichever the user wrote).
fn resolve_backoff(backoff: &BackoffFile, key: &str) -> Result<Backoff, Problem> {
    let base = present(&backoff.base, &format!("{key}.base"))?;
    let cap = present(&backoff.cap, &format!("{key}.cap"))?;
    let multiplier = present(&backoff.multiplier, &format!("{key}.multiplier"))?;
    let factor = multiplier.get_ref().0;
    if !(factor.is_finite() && factor >= 1.0) {
        let message = format!("backoff multiplier {factor} is not a finite number >= 1");
        let problem = Problem::new(multiplier.span(), format!("{key}.multiplier"), message);
        return problem.expected("a multiplier of at least 1, such as 2.0").into_err();
    }
    let (base_value, cap_value) = (*base.get_ref(), *cap.get_ref());
    if cap_value < base_value {
        return cap_below_base(base, cap, key).into_err();
    }
    let jitter = *present(&backoff.jitter, &format!("{key}.jitter"))?;
    Ok(Backoff { base: base_value.0, multiplier: factor, cap: cap_value.0, jitter: jitter_of(jitter) })
}

fn cap_below_base(base: &Spanned<Duration>, cap: &Spanned<Duration>, key: &str) -> Problem {
    let (base_value, cap_value) = (*base.get_ref(), *cap.get_ref());
    if is_filled(cap) {
        let message = format!("backoff base {base_value} is above the default cap {cap_value}");
        let expected = format!("a base of at most {cap_value}, or a cap of at least {base_value}");
        return Problem::new(base.span(), format!("{key}.base"), message).expected(expected);
    }
    let base_kind = if is_filled(base) { "the default base" } else { "the base" };
    let message = format!("backoff cap {cap_value} is below {base_kind} {base_value}");
    Problem::new(cap.span(), format!("{key}.cap"), message)
        .expected(format!("a cap of at least {base_value}"))
}

fn jitter_of(jitter: JitterFile) -> Jitter {
    match jitter {
        JitterFile::None => Jitter::None,
        JitterFile::Full => Jitter::Full,
        JitterFile::Equal => Jitter::Equal,
        JitterFile::Decorrelated => Jitter::Decorrelated,
    }
}

// ---------------------------------------------------------------------------------------
// [sources]
// ---------------------------------------------------------------------------------------

fn resolve_sources(
    sources: &Named<SourceFile>,
    client_names: &[&str],
    start: Option<ClockTime>,
) -> Result<Vec<Source>, Problem> {
    if sources.is_empty() {
        return Problem::new(0..0, "sources", "no source is defined")
            .expected("at least one [sources.NAME] table with a client and a rate")
            .into_err();
    }
    sources.iter().map(|(name, source)| resolve_source(name, source, client_names, start)).collect()
}

fn resolve_source(
    name: &Spanned<String>,
    source: &SourceFile,
    client_names: &[&str],
    start: Option<ClockTime>,
) -> Result<Source, Problem> {
    let key = format!("sources.{}", name.get_ref());
    let client = lookup(client_names, &source.client, &format!("{key}.client"), "client")?;
    let kind = match present(&source.kind, &format!("{key}.kind"))?.get_ref() {
        SourceKindFile::OpenLoop => super::workload::open_loop(name, source, start)?,
        SourceKindFile::ClosedLoop => super::workload::closed_loop(name, source, start)?,
    };
    Ok(Source { name: name.get_ref().to_string(), client: ClientId::from_idx(client), kind, home: vec![] })
}

/// A constant rate is a one-point profile at t = 0. A profile has at least one point, its
/// times strictly increase, and clock times are on or after `simulation.start`.
pub(super) fn resolve_profile(
    rate: &Spanned<RateFile>,
    key: &str,
    start: Option<ClockTime>,
) -> Result<RateProfile, Problem> {
    let points = match rate.get_ref() {
        RateFile::Constant(constant) => {
            let per_second = check_rate(&Spanned::new(rate.span(), *constant), key)?;
            return Ok(RateProfile { points: vec![(SimTime::ZERO, per_second)] });
        }
        RateFile::Profile(points) => points,
    };
    if points.is_empty() {
        let expected = r#"at least one point such as [{ at = "06:00", rate = "50/s" }], or a constant rate such as "100/s""#;
        return Problem::new(rate.span(), key, "rate profile is empty").expected(expected).into_err();
    }
    let mut resolved: Vec<(SimTime, f64)> = Vec::with_capacity(points.len());
    for (point_idx, point) in points.iter().enumerate() {
        let point_key = format!("{key}[{point_idx}]");
        let at = time_from_start(&point.at, &format!("{point_key}.at"), start)?;
        if let Some(&(previous, _)) = resolved.last()
            && at <= previous
        {
            return out_of_order(
                &point.at,
                &points[point_idx - 1].at,
                at,
                previous,
                &format!("{point_key}.at"),
            )
            .into_err();
        }
        resolved.push((at, check_rate(&point.rate, &format!("{point_key}.rate"))?));
    }
    Ok(RateProfile { points: resolved })
}

fn check_rate(rate: &Spanned<Rate>, key: &str) -> Result<f64, Problem> {
    let per_second = rate.get_ref().per_second();
    if per_second > MAX_RATE_PER_SECOND {
        let message = format!("rate {} is above the limit of 1000000000/s", rate.get_ref());
        return Problem::new(rate.span(), key, message).expected("a rate of at most 1000000000/s").into_err();
    }
    Ok(per_second)
}

pub(super) fn out_of_order(
    at: &Spanned<TimePoint>,
    previous_at: &Spanned<TimePoint>,
    time: SimTime,
    previous: SimTime,
    key: &str,
) -> Problem {
    let describe = |point: &Spanned<TimePoint>, time: SimTime| match point.get_ref() {
        TimePoint::Clock(clock) => format!("{clock} (t+{})", Duration(SimDuration(time.0))),
        TimePoint::FromStart(offset) => offset.to_string(),
    };
    let message = format!(
        "profile time {} is not after the previous point's {}",
        describe(at, time),
        describe(previous_at, previous)
    );
    Problem::new(at.span(), key, message).expected("profile times in strictly increasing order")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lognormal_bound_in_messages_matches_the_model() {
        let ratio_limit = (Z99 * Z99 / 2.0).exp();
        assert!(CpuCost::lognormal_from_mean_p99(1.0, ratio_limit * 0.999_999).is_some());
        assert!(CpuCost::lognormal_from_mean_p99(1.0, ratio_limit * 1.000_001).is_none());
        assert!((ratio_limit - 14.97).abs() < 0.01);
    }
}
