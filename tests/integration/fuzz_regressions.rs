//! Random and mutated scenario files, and the inputs the fuzzer (`fuzz/`) found: loading never
//! panics, every error renders, and a scenario that loads runs a short while without
//! panicking or hanging (the checks are `load_and_run::check`, shared with the fuzz target).

use crate::common::shipped_scenarios;
use crate::load_and_run::check;
use proptest::prelude::*;
use proptest::sample::select;
use std::path::Path;

/// A valid skeleton the generator edits, so that many generated files load and run.
const SKELETON: &str = r#"[simulation]
duration = "1h"
start = "06:00"
interval = "1m"

[classes.a]
share = "40%"

[classes.b]
share = "60%"

[sources.s]
client = "c"
rate = [{ at = "06:00", rate = "50/s" }, { at = "06:30", rate = "200/s" }]

[clients.c]
target = "api"
timeout = "1s"

[clients.c.retry]
max_attempts = 3
backoff = { base = "100ms", cap = "5s", jitter = "full" }

[services.api]
instances = 2
cores = 2
queue = { capacity = 10 }
cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }
"#;

/// Keys of the scenario format, and a few it does not have.
const KEYS: &[&str] = &[
    "above",
    "action",
    "after",
    "aggregation",
    "at",
    "autoscaler",
    "backoff",
    "balancer",
    "base",
    "below",
    "blind_instances",
    "boot_delay",
    "cap",
    "capacity",
    "class",
    "classes",
    "client",
    "comparison",
    "cores",
    "count",
    "cpu",
    "cpu_multiplier",
    "delay",
    "description",
    "dist",
    "duration",
    "for",
    "from",
    "include",
    "instances",
    "interval",
    "jitter",
    "jobs",
    "kind",
    "limiter",
    "max",
    "max_attempts",
    "max_events",
    "max_in_flight",
    "mean",
    "metric",
    "metrics",
    "min",
    "multiplier",
    "name",
    "note",
    "on",
    "over",
    "p99",
    "period",
    "preset",
    "queue",
    "rate",
    "recovery",
    "replace_failed",
    "reporting",
    "retry",
    "scale_down_percent",
    "scale_down_window",
    "scale_in_cooldown",
    "scale_up_percent",
    "scale_up_pods",
    "scale_up_window",
    "schedule",
    "seed",
    "service",
    "share",
    "sliding",
    "stale_after",
    "start",
    "statistic",
    "success_rate",
    "sync",
    "target",
    "timeout",
    "to",
    "tolerance",
    "value",
    "warmup",
    "warmup_cpu",
    "when_blind",
    "window",
    "workers",
    "cpus",
    "retries",
    "cells",
    "count",
    "shares",
    "change",
    "waves",
    "bake",
    "gate",
    "rollback",
    "success_rate_below",
    "latency_p99_above",
    "min_requests",
    "users",
    "think_time",
    "arrivals",
    "cv",
    "trace",
    "file",
    "time_column",
    "value_column",
    "values",
    "interpolation",
    "scale",
    "shift",
    "x",
];

/// Table headers, real and not.
const TABLES: &[&str] = &[
    "[simulation]",
    "[guard]",
    "[slo]",
    "[classes.a]",
    "[classes.c]",
    "[sources.s]",
    "[sources.t]",
    "[clients.c]",
    "[clients.c.retry]",
    "[clients.d]",
    "[services.api]",
    "[services.api.autoscaler]",
    "[services.api.classes.a]",
    "[services.db]",
    "[alerts.x]",
    "[alerts.x.then]",
    "[[timeline]]",
    "[[thresholds]]",
    "[[services.api.autoscaler.schedule]]",
    "[variants.v.services.api]",
    "[variants.v.clients.c]",
    "[variants.w]",
    "[variants.v.variants.w]",
    "[cells]",
    "[release]",
    "[release.gate]",
    "[variants.v.release]",
    "[unknown]",
    "[services]",
];

/// Strings as the format writes values: units, clock times, names, and absurd ones.
const WORDS: &[&str] = &[
    "1s",
    "0s",
    "1ns",
    "250ms",
    "1h30m",
    "cell-1",
    "cell-9",
    "closed_loop",
    "open_loop",
    "step",
    "linear",
    "traces/monday.csv",
    "-7d",
    "365d",
    "366d",
    "1e15s",
    "-1s",
    "NaN",
    "inf",
    "nans",
    "100/s",
    "1e9/s",
    "1e10/s",
    "0/s",
    "-5/s",
    "inf/s",
    "NaN/s",
    "50/min",
    "1/h",
    "10 parsecs",
    "50%",
    "0%",
    "100%",
    "101%",
    "-1%",
    "NaN%",
    "99.999999%",
    "06:00",
    "23:59",
    "00:08+1d",
    "25:00",
    "06:00+400d",
    "lognormal",
    "exponential",
    "constant",
    "round_robin",
    "random",
    "least_outstanding",
    "power_of_two_choices",
    "unbounded",
    "finagle",
    "grpc",
    "envoy",
    "sre",
    "aws-standard",
    "resilience4j",
    "none",
    "hpa",
    "aws-target-tracking",
    "schedule",
    "hold",
    "scale-out",
    "scale_to",
    "instance_loss",
    "backlog",
    "admit",
    "metrics",
    "cpu_multiplier",
    "limiter",
    "timeout",
    "rejected",
    "full",
    "equal",
    "decorrelated",
    "success_rate",
    "latency_p99",
    "cpu_utilisation",
    "metrics_staleness",
    "latency.p99",
    ">=",
    "<",
    "upper95",
    "worst",
    "api",
    "c",
    "s",
    "a",
    "",
    "é",
    "😀",
];

/// Bare TOML values: numbers (huge, negative, not finite), booleans, dates.
const BARE: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "100",
    "100000",
    "100001",
    "9223372036854775807",
    "-9223372036854775808",
    "1e15",
    "1e308",
    "-1.0",
    "0.5",
    "2.0",
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "true",
    "false",
    "06:00:00",
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "0x10",
];

fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        select(WORDS).prop_map(|word| format!("{word:?}")),
        select(BARE).prop_map(str::to_string),
        (
            select(&[1e15, -1.0, 0.0, 1e-9, 3.5, f64::MAX, 1e300][..]),
            select(&["s", "ms", "/s", "%", "h", ""][..])
        )
            .prop_map(|(number, unit)| format!("\"{number}{unit}\"")),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z0-9 %/:.+-]{0,8}".prop_map(|text| format!("{text:?}")),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((select(KEYS), inner), 0..4).prop_map(|pairs| {
                let pairs: Vec<String> =
                    pairs.iter().map(|(key, value)| format!("{key} = {value}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            }),
        ]
    })
}

fn key_value() -> impl Strategy<Value = String> {
    (select(KEYS), value()).prop_map(|(key, value)| format!("{key} = {value}"))
}

/// A small document from the vocabulary: tables with random keys and values.
fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((select(TABLES), prop::collection::vec(key_value(), 0..5)), 0..7).prop_map(
        |tables| {
            tables
                .iter()
                .map(|(header, lines)| format!("{header}\n{}\n", lines.join("\n")))
                .collect::<Vec<_>>()
                .join("\n")
        },
    )
}

/// One edit of a text.
#[derive(Clone, Debug)]
enum Mutation {
    /// The value of the line (after `=`) replaced.
    ReplaceValue(usize, String),
    InsertLine(usize, String),
    InsertTable(usize, &'static str),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    FlipBit(usize, u8),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        4 => (at, value()).prop_map(|(line, value)| Mutation::ReplaceValue(line, value)),
        2 => (at, key_value()).prop_map(|(line, text)| Mutation::InsertLine(line, text)),
        1 => (at, select(TABLES)).prop_map(|(line, header)| Mutation::InsertTable(line, header)),
        1 => at.prop_map(Mutation::DeleteLine),
        1 => at.prop_map(Mutation::DuplicateLine),
        1 => (at, at).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (at, 0..8u8).prop_map(|(byte, bit)| Mutation::FlipBit(byte, bit)),
        1 => at.prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match mutation {
        Mutation::ReplaceValue(line, value) => {
            if let Some(line) = lines.get_mut(line % n)
                && let Some((key, _)) = line.split_once('=')
            {
                *line = format!("{key}= {value}");
            }
        }
        Mutation::InsertLine(line, text) => lines.insert(line % (lines.len() + 1), text.clone()),
        Mutation::InsertTable(line, header) => lines.insert(line % (lines.len() + 1), header.to_string()),
        Mutation::DeleteLine(line) if !lines.is_empty() => {
            lines.remove(line % n);
        }
        Mutation::DuplicateLine(line) if !lines.is_empty() => {
            let copy = lines[line % n].clone();
            lines.insert(line % n, copy);
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
        Mutation::FlipBit(at, bit) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] ^= 1 << bit;
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Mutation::Truncate(at) => {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return text[..at].to_string();
        }
        _ => {}
    }
    let mut res = lines.join("\n");
    res.push('\n');
    res
}

/// Where a generated case starts: the skeleton, a shipped scenario, or a document of random
/// tables.
fn starting_text() -> impl Strategy<Value = String> {
    let shipped: Vec<String> =
        shipped_scenarios().iter().map(|path| std::fs::read_to_string(path).unwrap()).collect();
    prop_oneof![
        3 => Just(SKELETON.to_string()),
        3 => select(shipped),
        2 => document(),
        1 => document().prop_map(|document| format!("{SKELETON}\n{document}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Generated and mutated files load or are refused with a rendered error, and those that
    /// load run a short while.
    #[test]
    fn generated_and_mutated_scenarios_never_panic(
        start in starting_text(),
        mutations in prop::collection::vec(mutation(), 0..5),
    ) {
        let text = mutations.iter().fold(start, |text, mutation| apply(&text, mutation));
        check(&text);
    }
}

/// The fuzzer's seed corpus: every file passes the checks (the shipped scenarios among them
/// load and run).
#[test]
fn the_seed_corpus_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/load_and_run");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        check(&std::fs::read_to_string(&path).unwrap());
        n += 1;
    }
    assert!(n >= shipped_scenarios().len(), "{} holds {n} files", dir.display());
}

/// Each shipped scenario, mutated one line at a time: a value replaced by an absurd one.
#[test]
fn shipped_scenarios_with_absurd_values_never_panic() {
    for path in shipped_scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, _) in text.lines().enumerate().filter(|(_, line)| line.contains(" = ")) {
            for value in ["\"1e15s\"", "-1", "nan", "\"inf/s\"", "\"365d\"", "100000", "{}", "[]"] {
                check(&apply(&text, &Mutation::ReplaceValue(line, value.to_string())));
            }
        }
    }
}
