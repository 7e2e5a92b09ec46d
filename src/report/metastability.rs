//! `metastability.csv`, `metastability.json` and the terminal table of a map.
//!
//! The CSV has one row per cell: its factor and length, the seeds, how many were still
//! collapsed, that share and its 95% Wilson interval, and the recovery times of the others
//! (count, median, 90th percentile, max). The JSON adds each run's fate and the boundary.

use serde_json::{Value, json};

use crate::metastability::{BOUNDARY_SHARE, Cell, Fate, Map, recovery_quantiles};

/// Bumped when a field of `metastability.json` or a column of `metastability.csv` changes
/// meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// `metastability.csv`: one row per cell, in matrix order.
pub fn csv(map: &Map, cells: &[Cell]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        map.factors.path.as_str(),
        map.durations.path.as_str(),
        "seeds",
        "collapsed",
        "collapsed_share",
        "collapsed_share_low95",
        "collapsed_share_high95",
        "recovered",
        "recovery_p50_s",
        "recovery_p90_s",
        "recovery_max_s",
    ])?;
    for cell in cells {
        let recovery = recovery_quantiles(&cell.recoveries);
        let figure = |pick: fn((usize, f64, f64, f64)) -> f64| {
            recovery.map_or_else(String::new, |q| pick(q).to_string())
        };
        writer.write_record([
            map.factors.values[cell.factor].clone(),
            map.durations.values[cell.length].clone(),
            cell.seeds.to_string(),
            cell.collapsed.to_string(),
            cell.share.to_string(),
            cell.interval.0.to_string(),
            cell.interval.1.to_string(),
            cell.recoveries.len().to_string(),
            figure(|q| q.1),
            figure(|q| q.2),
            figure(|q| q.3),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `metastability.json`.
pub fn json(map: &Map, cells: &[Cell], fates: &[Fate]) -> Value {
    let n_seeds = map.seeds.len().max(1);
    let cells_json: Vec<Value> = cells
        .iter()
        .zip(fates.chunks(n_seeds))
        .map(|(cell, fates)| {
            let runs: Vec<Value> = fates
                .iter()
                .zip(&map.seeds)
                .map(|(fate, seed)| json!({ "seed": seed, "collapsed": fate.collapsed, "recovery_s": fate.recovery_s }))
                .collect();
            let recovery = recovery_quantiles(&cell.recoveries).map(|(n, p50, p90, max)| {
                json!({ "recovered": n, "p50_s": p50, "p90_s": p90, "max_s": max, "times_s": cell.recoveries })
            });
            json!({
                "factor": map.factors.values[cell.factor],
                "over": map.durations.values[cell.length],
                "judged_at_s": map.judged_at(cell.length).as_secs_f64(),
                "seeds": cell.seeds,
                "collapsed": cell.collapsed,
                "collapsed_share": cell.share,
                "collapsed_share_ci95": [cell.interval.0, cell.interval.1],
                "recovery": recovery,
                "runs": runs,
            })
        })
        .collect();
    let boundary: Vec<Value> = map
        .boundary(cells)
        .iter()
        .enumerate()
        .map(|(length, factor)| {
            json!({ "over": map.durations.values[length], "factor": factor.map(|factor| map.factors.values[factor].clone()) })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "stormsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": { "name": map.scenario, "variant": map.variant, "hash": map.scenario_hash },
        "source": map.source,
        "surge_at_s": map.at.as_secs_f64(),
        "settle_s": map.settle.as_secs_f64(),
        "slo": { "success_rate": map.slo_target, "recovery_s": map.slo_recovery.as_secs_f64() },
        "seeds": map.seeds,
        "parameters": [map.factors, map.durations],
        "boundary_share": BOUNDARY_SHARE,
        "boundary": boundary,
        "cells": cells_json,
    })
}

/// The terminal table: factors down, lengths across, each cell `collapsed/seeds` and its
/// interval; then the boundary and the recovery times per cell that recovered.
pub fn table(map: &Map, cells: &[Cell]) -> String {
    let n_lengths = map.durations.values.len();
    let mut res = format!(
        "{}{} · seeds still collapsed {} after a surge of sources.{} ends (95% Wilson interval) · {} seeds per cell\n",
        map.scenario,
        map.variant.as_ref().map_or_else(String::new, |variant| format!(" · variant {variant}")),
        map.settle,
        map.source,
        map.seeds.len(),
    );
    let texts: Vec<String> = cells
        .iter()
        .map(|cell| {
            format!(
                "{}/{} ({:.0}-{:.0}%)",
                cell.collapsed,
                cell.seeds,
                cell.interval.0 * 100.0,
                cell.interval.1 * 100.0
            )
        })
        .collect();
    let head = "factor \\ over";
    let first = map.factors.values.iter().map(String::len).max().unwrap_or(0).max(head.len());
    let width =
        texts.iter().map(String::len).chain(map.durations.values.iter().map(String::len)).max().unwrap_or(0);
    res.push_str(&format!("{head:<first$}"));
    for value in &map.durations.values {
        res.push_str(&format!("  {value:>width$}"));
    }
    res.push('\n');
    for (factor, row) in texts.chunks(n_lengths).enumerate() {
        res.push_str(&format!("{:<first$}", map.factors.values[factor]));
        for text in row {
            res.push_str(&format!("  {text:>width$}"));
        }
        res.push('\n');
    }
    res.push_str(&format!(
        "boundary (at least {:.0}% of seeds collapsed from this factor up):",
        BOUNDARY_SHARE * 100.0
    ));
    for (length, factor) in map.boundary(cells).iter().enumerate() {
        let at = factor.map_or("none".to_owned(), |factor| format!("x{}", map.factors.values[factor]));
        res.push_str(&format!(" {} {at};", map.durations.values[length]));
    }
    res.pop();
    res.push('\n');
    let recovered: Vec<String> = cells
        .iter()
        .filter_map(|cell| {
            let (n, p50, p90, max) = recovery_quantiles(&cell.recoveries)?;
            (cell.recoveries.iter().any(|&r| r > 0.0)).then(|| {
                format!(
                    "  x{} over {}: {n} recovered, median {p50:.0} s, p90 {p90:.0} s, max {max:.0} s",
                    map.factors.values[cell.factor], map.durations.values[cell.length]
                )
            })
        })
        .collect();
    if !recovered.is_empty() {
        res.push_str("recovery after the surge's end, where an outage outlived it:\n");
        for line in recovered {
            res.push_str(&line);
            res.push('\n');
        }
    }
    res
}
