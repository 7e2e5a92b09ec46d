//! `sweep.csv` and `sweep.json`.
//!
//! The CSV is flat: the parameters, the seed, then every metric of the vocabulary that has a
//! value in some run (an empty cell where one run has none). The JSON carries the raw
//! per-run values and, per point, each metric's mean and 95% Student t interval.

use serde_json::{Value, json};

use crate::check::metric::METRICS;
use crate::sweep::{CONFIDENCE, MetricValues, Sweep, estimate};

/// Bumped when a field of `sweep.json` or a column of `sweep.csv` changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Indices of the metrics with a value in some run.
fn present(runs: &[MetricValues]) -> Vec<usize> {
    (0..METRICS.len()).filter(|&idx| runs.iter().any(|values| values[idx].is_some())).collect()
}

/// `sweep.csv`: one row per grid point per seed, in matrix order.
pub fn csv(sweep: &Sweep, runs: &[MetricValues]) -> Result<String, csv::Error> {
    let columns = present(runs);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = sweep.axes.iter().map(|axis| axis.path.as_str()).collect();
    header.push("seed");
    header.extend(columns.iter().map(|&idx| METRICS[idx].name));
    writer.write_record(&header)?;
    let n_seeds = sweep.seeds.len().max(1);
    for (job, values) in runs.iter().enumerate() {
        let point = &sweep.points[job / n_seeds];
        let mut record: Vec<String> =
            sweep.axes.iter().zip(point).map(|(axis, &value)| axis.values[value].clone()).collect();
        record.push(sweep.seeds[job % n_seeds].to_string());
        record.extend(
            columns.iter().map(|&idx| values[idx].map_or_else(String::new, |value| value.to_string())),
        );
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `sweep.json`.
pub fn json(sweep: &Sweep, runs: &[MetricValues]) -> Value {
    let columns = present(runs);
    let n_seeds = sweep.seeds.len().max(1);
    let points: Vec<Value> = sweep
        .points
        .iter()
        .zip(runs.chunks(n_seeds))
        .enumerate()
        .map(|(idx, (point, chunk))| {
            let parameters: serde_json::Map<String, Value> = sweep
                .axes
                .iter()
                .zip(point)
                .map(|(axis, &value)| (axis.path.clone(), Value::from(axis.values[value].clone())))
                .collect();
            let runs: Vec<Value> = chunk
                .iter()
                .zip(&sweep.seeds)
                .map(|(values, seed)| {
                    let metrics: serde_json::Map<String, Value> =
                        columns.iter().map(|&metric| (METRICS[metric].name.to_string(), json!(values[metric]))).collect();
                    json!({ "seed": seed, "metrics": metrics })
                })
                .collect();
            let summary: serde_json::Map<String, Value> = columns
                .iter()
                .map(|&metric| {
                    let values: Vec<Option<f64>> = chunk.iter().map(|values| values[metric]).collect();
                    let stats = estimate(&values).map_or(Value::Null, |estimate| {
                        json!({ "n": estimate.n, "mean": estimate.mean, "ci95": estimate.interval.map(|(low, high)| [low, high]) })
                    });
                    (METRICS[metric].name.to_string(), stats)
                })
                .collect();
            json!({ "index": idx, "parameters": parameters, "runs": runs, "summary": summary })
        })
        .collect();
    let metric = sweep.metric;
    json!({
        "schema_version": SCHEMA_VERSION,
        "stormsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": { "name": sweep.scenario, "variant": sweep.variant, "hash": sweep.scenario_hash },
        "seeds": sweep.seeds,
        "confidence": CONFIDENCE,
        "metric": { "name": metric.name, "unit": metric.unit.name(), "better": metric.better.name() },
        "parameters": sweep.axes,
        "points": points,
    })
}

/// The terminal table: one line per point with the chosen metric's mean and interval.
pub fn table(sweep: &Sweep, runs: &[MetricValues]) -> String {
    let metric = sweep.metric;
    let per_point = sweep.per_point(runs, sweep.metric_index());
    let labels = sweep.labels();
    let width = labels.iter().map(|label| label.chars().count()).max().unwrap_or(0);
    let mut res =
        format!("{} over {} points x {} seeds\n", metric.name, sweep.points.len(), sweep.seeds.len());
    for (label, values) in labels.iter().zip(&per_point) {
        let cell = match estimate(values) {
            Some(estimate) => match estimate.interval {
                Some((low, high)) => format!(
                    "{}  (95% CI {} to {})",
                    metric.unit.format(estimate.mean),
                    metric.unit.format(low),
                    metric.unit.format(high)
                ),
                None => metric.unit.format(estimate.mean),
            },
            None => "no value".to_string(),
        };
        res.push_str(&format!("{label:<width$}  {cell}\n"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::metric;
    use crate::sweep::grid::Axis;

    fn sweep() -> Sweep {
        let axes = vec![Axis { path: "services.api.instances".into(), values: vec!["1".into(), "2".into()] }];
        Sweep::new("demo", None, "abc", axes, vec![1, 2], metric::lookup("success_rate").unwrap())
    }

    fn runs() -> Vec<MetricValues> {
        let mut values = vec![vec![None; METRICS.len()]; 4];
        for (job, rate) in [0.5, 0.7, 0.9, 1.0].into_iter().enumerate() {
            values[job][0] = Some(rate);
        }
        values
    }

    #[test]
    fn the_csv_has_a_row_per_run_and_a_column_per_metric_with_a_value() {
        let text = csv(&sweep(), &runs()).unwrap();
        assert_eq!(text, "services.api.instances,seed,success_rate\n1,1,0.5\n1,2,0.7\n2,1,0.9\n2,2,1\n");
    }

    #[test]
    fn the_json_has_raw_values_means_and_intervals() {
        let json = json(&sweep(), &runs());
        let point = &json["points"][1];
        assert_eq!(point["parameters"]["services.api.instances"], "2");
        assert_eq!(point["runs"][0]["seed"], 1);
        assert_eq!(point["runs"][1]["metrics"]["success_rate"], 1.0);
        assert!((point["summary"]["success_rate"]["mean"].as_f64().unwrap() - 0.95).abs() < 1e-12);
        assert_eq!(point["summary"]["success_rate"]["ci95"].as_array().unwrap().len(), 2);
        let table = table(&sweep(), &runs());
        assert!(table.contains("services.api.instances=2  95%  (95% CI "), "{table}");
    }
}
