//! Resolves `[cells]` and `[release]`, and deploys a service with `cells = true` as one
//! pool per cell.
//!
//! A pool is a plain `Service` named `service@cell`, as a region's is `service@region`, so
//! everything the model does to a pool works per cell unchanged. Cells and regions do not
//! combine (a cell would then need its own regions, and failover would cross cells): a
//! scenario with both is refused. Same rules as `resolve`: every refusal names the key,
//! points at what the user wrote and says what would be valid.

use std::ops::Range;

use super::spanned::Spanned;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checks::{check_count, check_delay, lookup, present, time_from_start};
use super::error::Problem;
use super::file::{Count, Named, Number, ScenarioFile};
use super::operations::{check_factor, check_fraction};
use super::regions::{Deployment, pool_name};
use super::units::{ClockTime, Duration, Percent, TimePoint};
use crate::engine::SimDuration;
use crate::ids::{CellId, ServiceId};
use crate::model::{Cell, Change, Client, Gate, Release, Service};
use crate::refusal::quoted_list;

/// Most cells: 64.
const MAX_CELLS: i64 = 64;
/// Cell shares must sum to 100% within this (as fractions).
const SHARE_TOLERANCE: f64 = 1e-9;
/// Most requests a gate may wait for: 1,000,000.
const MAX_MIN_REQUESTS: i64 = 1_000_000;

/// `[cells]`: copies of the cellular services, each serving a share of the customers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CellsFile {
    /// `count = 4`: cells `cell-1` to `cell-4`, each serving an even share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Spanned<Count>>,
    /// `shares = { internal = "5%", eu = "45%", us = "50%" }`: the cells by name and the
    /// share of customers each serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<Spanned<Named<Spanned<Percent>>>>,
}

/// `[release]`: a change rolled over the cells in waves.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFile {
    /// When the first wave goes out.
    pub at: Spanned<TimePoint>,
    /// The cellular services the change applies to; omitted: every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Spanned<Vec<Spanned<String>>>>,
    /// What the release does to each pool it reaches.
    pub change: Spanned<ChangeFile>,
    /// Cells per wave: `[["cell-1"], ["cell-2", "cell-3"]]`.
    pub waves: Spanned<Vec<Spanned<Vec<Spanned<String>>>>>,
    /// How long each wave runs before the gate judges it (and the next wave goes out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake: Option<Spanned<Duration>>,
    /// The health check that halts the rollout after a bake; omitted: none, every wave goes
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Spanned<GateFile>>,
    /// On a halt, restore every cell reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Spanned<bool>>,
}

/// `change = { cpu_multiplier = 1.4 }`: the timeline's parameters, set on each pool.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeFile {
    /// The pools' CPU-cost multiplier from their wave on, as the timeline's
    /// `cpu_multiplier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_multiplier: Option<Spanned<Number>>,
    /// Share of the pools' answers that are errors from their wave on, as the timeline's
    /// `error_rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<Spanned<Percent>>,
}

/// `gate = { success_rate_below = "99%" }`: when a cell's bake halts the rollout.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    /// Halt when a cell's customers' requests finished in its bake succeed below this rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate_below: Option<Spanned<Percent>>,
    /// Halt when their p99 latency over the bake is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_above: Option<Spanned<Duration>>,
    /// Fewer requests finished in a bake is no evidence: the cell passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_requests: Option<Spanned<Count>>,
}

/// The cells, in id order, and which services have them; refuses cells beside regions,
/// `cells = true` without `[cells]`, and `[cells]` that no service uses.
pub(super) fn resolve_cells(file: &ScenarioFile) -> Result<(Vec<Cell>, Vec<bool>), Problem> {
    let flagged = file
        .services
        .iter()
        .find(|(_, service)| service.cells.as_ref().is_some_and(|cells| *cells.get_ref()));
    let Some(table) = &file.cells else {
        if let Some((name, service)) = flagged {
            let span = service.cells.as_ref().map_or(name.span(), Spanned::span);
            return Problem::new(
                span,
                format!("services.{}.cells", name.get_ref()),
                "the scenario has no cells",
            )
            .expected("a [cells] table (count = 4, or shares = { NAME = \"25%\", ... }), or no cells key")
            .into_err();
        }
        return Ok((vec![], vec![false; file.services.len()]));
    };
    if let Some((region, _)) = file.regions.iter().next() {
        return Problem::new(table.span(), "cells", "cells and regions do not combine")
            .expected(format!(
                "either [cells] or [regions.NAME] (region \"{}\" is declared); a cell's requests never leave it",
                region.get_ref()
            ))
            .into_err();
    }
    let cells = cells_of(table)?;
    let cellular: Vec<bool> = file
        .services
        .values()
        .map(|service| service.cells.as_ref().is_some_and(|cells| *cells.get_ref()))
        .collect();
    if !cellular.contains(&true) {
        return Problem::new(table.span(), "cells", "no service has cells = true, so the cells hold nothing")
            .expected("cells = true in the [services.NAME] each cell has a copy of")
            .into_err();
    }
    Ok((cells, cellular))
}

fn cells_of(table: &Spanned<CellsFile>) -> Result<Vec<Cell>, Problem> {
    let file = table.get_ref();
    match (&file.count, &file.shares) {
        (Some(count), None) => {
            let n = check_count(count, "cells.count", "count", 1..=MAX_CELLS)? as usize;
            Ok((1..=n).map(|k| Cell { name: format!("cell-{k}"), share: 1.0 / n as f64 }).collect())
        }
        (None, Some(shares)) => shares_of(shares),
        (Some(count), Some(_)) => {
            Problem::new(count.span(), "cells.count", "count and shares both name the cells")
                .expected("count = N (even shares), or shares = { NAME = \"25%\", ... }, not both")
                .into_err()
        }
        (None, None) => Problem::new(table.span(), "cells", "no cells")
            .expected("count = 4 (cells cell-1 to cell-4, even shares), or shares = { NAME = \"25%\", ... }")
            .into_err(),
    }
}

/// Named cells: 1 to `MAX_CELLS`, shares from 0% to 100% summing to 100%.
fn shares_of(shares: &Spanned<Named<Spanned<Percent>>>) -> Result<Vec<Cell>, Problem> {
    let key = "cells.shares";
    let table = shares.get_ref();
    if table.is_empty() || table.len() > MAX_CELLS as usize {
        return Problem::new(shares.span(), key, format!("{} cells", table.len()))
            .expected(format!("1 to {MAX_CELLS} cells, such as {{ cell-1 = \"50%\", cell-2 = \"50%\" }}"))
            .into_err();
    }
    let mut cells = Vec::with_capacity(table.len());
    let mut last_span: Range<usize> = shares.span();
    for (name, share) in table {
        let fraction = check_fraction(share, &format!("{key}.{}", name.get_ref()))?;
        last_span = share.span();
        cells.push(Cell { name: name.get_ref().clone(), share: fraction });
    }
    let sum: f64 = cells.iter().map(|cell| cell.share).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        let parts: Vec<String> =
            cells.iter().map(|cell| format!("{} {}", cell.name, percent_text(cell.share))).collect();
        let message = format!("customer shares sum to {} ({})", percent_text(sum), parts.join(", "));
        return Problem::new(last_span, key, message).expected("shares summing to 100%").into_err();
    }
    Ok(cells)
}

/// A fraction as a percentage for a message, rounded to 9 decimals.
fn percent_text(fraction: f64) -> String {
    format!("{}%", (fraction * 100.0 * 1e9).round() / 1e9)
}

/// The pools the model runs: each service without cells as it is, each service with cells
/// as one pool per cell, `name@cell`, with the service's zones. Pools keep their service's
/// order, a service's pools in the cells' order.
pub(super) fn deploy(services: Vec<Service>, cellular: &[bool], cells: &[Cell]) -> Deployment {
    let mut pools = Vec::with_capacity(services.len() * cells.len().max(1));
    let mut pools_of = Vec::with_capacity(services.len());
    for (service, &cellular) in services.into_iter().zip(cellular) {
        if !cellular {
            pools_of.push(vec![ServiceId::from_idx(pools.len())]);
            pools.push(service);
            continue;
        }
        let mut ids = Vec::with_capacity(cells.len());
        for (cell_idx, cell) in cells.iter().enumerate() {
            ids.push(ServiceId::from_idx(pools.len()));
            pools.push(Service {
                name: pool_name(&service.name, &cell.name),
                cell: Some(CellId::from_idx(cell_idx)),
                ..service.clone()
            });
        }
        pools_of.push(ids);
    }
    Deployment { pools, pools_of }
}

/// Gives each client whose target has cells the target's pool in each cell (after
/// `Deployment::link` has pointed it at the first).
pub(super) fn link(
    deployment: &Deployment,
    cellular: &[bool],
    service_ids: &[ServiceId],
    clients: &mut [Client],
) {
    for (client, &target) in clients.iter_mut().zip(service_ids) {
        // A client of a dependency (numbered after the services) is in no cell.
        if cellular.get(target.idx()).copied().unwrap_or(false) {
            client.cell_pools = deployment.pools_of[target.idx()].clone();
        }
    }
}

/// `[release]`: its time, its change, the pools it acts on per cell, its waves, bake and
/// gate. `service_names` and `pools_of` are per service of the file.
pub(super) fn resolve_release(
    file: &ScenarioFile,
    cells: &[Cell],
    cellular: &[bool],
    pools_of: &[Vec<ServiceId>],
    start: Option<ClockTime>,
    duration: SimDuration,
) -> Result<Option<Release>, Problem> {
    let Some(release) = &file.release else { return Ok(None) };
    if cells.is_empty() {
        return Problem::new(release.span(), "release", "a release is rolled over cells, and there are none")
            .expected("a [cells] table and cells = true on the services released, or no [release]")
            .into_err();
    }
    let spec = release.get_ref();
    let at = time_from_start(&spec.at, "release.at", start)?;
    if at.0 >= duration.0 {
        return Problem::new(
            spec.at.span(),
            "release.at",
            format!("{} is at or after the end of the run", spec.at.get_ref()),
        )
        .expected(format!("a time within the run's {}", Duration(duration)))
        .into_err();
    }
    let cell_names: Vec<&str> = cells.iter().map(|cell| cell.name.as_str()).collect();
    let services = released_services(file, cellular, spec.services.as_ref())?;
    let pools = (0..cells.len())
        .map(|cell| services.iter().map(|&service| pools_of[service][cell]).collect())
        .collect();
    let Some(bake) = &spec.bake else {
        return Problem::new(release.span(), "release.bake", "bake is missing")
            .expected(
                "bake = \"15m\": how long each wave runs before the gate judges it and the next goes out",
            )
            .into_err();
    };
    let bake_time = check_delay(bake, "release.bake")?;
    if bake_time.0 == 0 {
        return Problem::new(bake.span(), "release.bake", "bake is zero, so the gate would judge nothing")
            .expected("a duration above zero, at most \"1d\", such as \"15m\"")
            .into_err();
    }
    let gate = spec.gate.as_ref().map(resolve_gate).transpose()?;
    let rollback = present(&spec.rollback, "release.rollback")?;
    if *rollback.get_ref() && gate.is_none() {
        return Problem::new(
            rollback.span(),
            "release.rollback",
            "rollback = true without a gate never rolls back",
        )
        .expected("gate = { success_rate_below = \"99%\" } beside it, or rollback = false")
        .into_err();
    }
    Ok(Some(Release {
        at,
        change: resolve_change(&spec.change)?,
        pools,
        waves: resolve_waves(&spec.waves, &cell_names)?,
        bake: bake_time,
        gate,
        rollback: *rollback.get_ref(),
    }))
}

/// The services a release acts on (indices into the file's services): those named, each
/// with cells, or every service with cells.
fn released_services(
    file: &ScenarioFile,
    cellular: &[bool],
    named: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Result<Vec<usize>, Problem> {
    let all: Vec<usize> = (0..cellular.len()).filter(|&idx| cellular[idx]).collect();
    let Some(named) = named else { return Ok(all) };
    let service_names: Vec<&str> = file.services.keys().map(|name| name.get_ref().as_str()).collect();
    let with_cells: Vec<&str> = all.iter().map(|&idx| service_names[idx]).collect();
    if named.get_ref().is_empty() {
        return Problem::new(named.span(), "release.services", "services is empty")
            .expected(format!("some of {}, or no services key for all of them", quoted_list(&with_cells)))
            .into_err();
    }
    let mut res = Vec::with_capacity(named.get_ref().len());
    for reference in named.get_ref() {
        let idx = lookup(&with_cells, reference, "release.services", "service with cells")?;
        if res.contains(&all[idx]) {
            return Problem::new(
                reference.span(),
                "release.services",
                format!("service \"{}\" is repeated", reference.get_ref()),
            )
            .expected("each service once")
            .into_err();
        }
        res.push(all[idx]);
    }
    Ok(res)
}

fn resolve_change(change: &Spanned<ChangeFile>) -> Result<Change, Problem> {
    let file = change.get_ref();
    if file.cpu_multiplier.is_none() && file.error_rate.is_none() {
        return Problem::new(change.span(), "release.change", "the change changes nothing")
            .expected("cpu_multiplier = 1.4 and/or error_rate = \"5%\" (latency has no hook on a pool yet)")
            .into_err();
    }
    Ok(Change {
        cpu_multiplier: file
            .cpu_multiplier
            .as_ref()
            .map(|value| check_factor(value, "release.change.cpu_multiplier"))
            .transpose()?,
        error_rate: file
            .error_rate
            .as_ref()
            .map(|value| check_fraction(value, "release.change.error_rate"))
            .transpose()?,
    })
}

/// Waves of known cells, none empty, no cell in two.
fn resolve_waves(
    waves: &Spanned<Vec<Spanned<Vec<Spanned<String>>>>>,
    cell_names: &[&str],
) -> Result<Vec<Vec<CellId>>, Problem> {
    let key = "release.waves";
    if waves.get_ref().is_empty() {
        return Problem::new(waves.span(), key, "no waves")
            .expected(format!("a list of waves, each a list of cells, such as [[\"{}\"]]", cell_names[0]))
            .into_err();
    }
    let mut res: Vec<Vec<CellId>> = Vec::with_capacity(waves.get_ref().len());
    for (wave_idx, wave) in waves.get_ref().iter().enumerate() {
        let wave_key = format!("{key}[{wave_idx}]");
        if wave.get_ref().is_empty() {
            return Problem::new(wave.span(), wave_key, format!("wave {} names no cell", wave_idx + 1))
                .expected(format!("at least one of {}", quoted_list(cell_names)))
                .into_err();
        }
        let mut cells = Vec::with_capacity(wave.get_ref().len());
        for reference in wave.get_ref() {
            let cell = CellId::from_idx(lookup(cell_names, reference, &wave_key, "cell")?);
            if let Some(earlier) = res.iter().chain([&cells]).position(|wave| wave.contains(&cell)) {
                let message = format!("cell \"{}\" is already in wave {}", reference.get_ref(), earlier + 1);
                return Problem::new(reference.span(), wave_key, message)
                    .expected("each cell in one wave at most")
                    .into_err();
            }
            cells.push(cell);
        }
        res.push(cells);
    }
    Ok(res)
}

fn resolve_gate(gate: &Spanned<GateFile>) -> Result<Gate, Problem> {
    let file = gate.get_ref();
    if file.success_rate_below.is_none() && file.latency_p99_above.is_none() {
        return Problem::new(gate.span(), "release.gate", "the gate checks nothing")
            .expected("success_rate_below = \"99%\" and/or latency_p99_above = \"500ms\"")
            .into_err();
    }
    let success_rate_below = match &file.success_rate_below {
        Some(rate) => {
            let fraction = rate.get_ref().fraction();
            if !(fraction > 0.0 && fraction <= 1.0) {
                return Problem::new(
                    rate.span(),
                    "release.gate.success_rate_below",
                    format!("{} is outside (0%, 100%]", rate.get_ref()),
                )
                .expected("a success rate above 0% and at most 100%, such as \"99%\"")
                .into_err();
            }
            Some(fraction)
        }
        None => None,
    };
    let latency_p99_above = match &file.latency_p99_above {
        Some(latency) if latency.get_ref().nanos() == 0 => {
            return Problem::new(
                latency.span(),
                "release.gate.latency_p99_above",
                "latency_p99_above is zero",
            )
            .expected("a duration above zero, at most \"1d\", such as \"500ms\"")
            .into_err();
        }
        Some(latency) => Some(check_delay(latency, "release.gate.latency_p99_above")?),
        None => None,
    };
    let min_requests = present(&file.min_requests, "release.gate.min_requests")?;
    let min_requests =
        check_count(min_requests, "release.gate.min_requests", "min_requests", 0..=MAX_MIN_REQUESTS)?;
    Ok(Gate { success_rate_below, latency_p99_above, min_requests: min_requests as u64 })
}
