//! The JSON Schema of scenario files (`stormsim schema`): the committed copy is what the
//! binary prints, every shipped scenario satisfies it, and it refuses what the loader refuses.

use std::str::FromStr;

use assert_cmd::Command;
use jsonschema::Validator;
use serde_json::{Value, json};
use stormsim::units::{ClockTime, Duration, Percent, Rate, TimePoint};

use crate::common::{repo_path, shipped_scenarios};

fn schema() -> Value {
    stormsim::scenario::schema::scenario_schema()
}

fn validator(schema: &Value) -> Validator {
    jsonschema::draft7::new(schema).unwrap_or_else(|err| panic!("the schema is not valid draft 7: {err}"))
}

/// A TOML document as editors hand it to a JSON Schema validator: dates and times as text.
fn to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text),
        toml::Value::Integer(number) => json!(number),
        toml::Value::Float(number) => json!(number),
        toml::Value::Boolean(flag) => Value::Bool(flag),
        toml::Value::Datetime(datetime) => Value::String(datetime.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.into_iter().map(|(key, value)| (key, to_json(value))).collect())
        }
    }
}

fn errors(validator: &Validator, toml_text: &str) -> Vec<String> {
    let document = to_json(toml::from_str(toml_text).expect("the test's TOML parses"));
    validator.iter_errors(&document).map(|error| format!("{}: {error}", error.instance_path())).collect()
}

#[test]
fn the_committed_schema_is_what_stormsim_schema_prints() {
    let printed =
        Command::cargo_bin("stormsim").unwrap().arg("schema").assert().success().get_output().stdout.clone();
    let committed =
        std::fs::read(repo_path("schema/scenario.schema.json")).expect("schema/scenario.schema.json exists");
    assert!(
        printed == committed,
        "schema/scenario.schema.json is stale: regenerate it with `cargo run -- schema > schema/scenario.schema.json`"
    );
}

#[test]
fn every_shipped_scenario_satisfies_the_schema() {
    let validator = validator(&schema());
    for path in shipped_scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let problems = errors(&validator, &text);
        assert!(problems.is_empty(), "{}:\n{}", path.display(), problems.join("\n"));
    }
}

const BASE: &str = r#"
[simulation]
duration = "10m"
start = 06:00:00

[classes.default]

[sources.users]
client = "app"
rate = [{ at = "06:00", rate = "50/s" }, { at = "06:05", rate = "80/s" }]

[clients.app]
target = "api"
timeout = "2s"
retry = { max_attempts = 3, backoff = { base = "100ms", jitter = "full" } }

[services.api]
instances = 2
cores = 1
queue = { capacity = "unbounded" }
cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }
"#;

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    let validator = validator(&schema());
    assert_eq!(errors(&validator, BASE), Vec::<String>::new());
    stormsim::scenario::load_str(BASE, "base.toml").expect("the base loads");
    let broken = [
        ("an unknown key", "[services.api]\nreplicas = 3", "replicas"),
        ("a duration without its unit", "[clients.app]\ntimeout = 2", "/clients/app/timeout"),
        ("a misspelled keyword", "[services.api]\nbalancer = \"round_robbin\"", "/services/api/balancer"),
        ("a percentage without its sign", "[services.api]\nerror_rate = \"5\"", "/services/api/error_rate"),
        ("a clock time out of range", "[simulation]\nstart = \"25:00\"", "/simulation/start"),
        ("a count written as text", "[services.api]\ninstances = \"2\"", "/services/api/instances"),
    ];
    for (what, change, expected) in broken {
        let text = merged(BASE, change);
        let problems = errors(&validator, &text);
        assert!(problems.iter().any(|problem| problem.contains(expected)), "{what}: {problems:?}");
        assert!(stormsim::scenario::load_str(&text, "broken.toml").is_err(), "{what}: the loader takes it");
    }
    let missing = BASE.replace("cores = 1\n", "");
    assert!(errors(&validator, &missing).iter().any(|problem| problem.contains("cores")));
}

/// `BASE` with the keys of `change` (one table header and its keys) set over it.
fn merged(base: &str, change: &str) -> String {
    let mut document: toml::Table = toml::from_str(base).unwrap();
    let overrides: toml::Table = toml::from_str(change).unwrap();
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (key, value) in from {
            match (into.get_mut(&key), value) {
                (Some(toml::Value::Table(existing)), toml::Value::Table(table)) => merge(existing, table),
                (_, value) => {
                    into.insert(key, value);
                }
            }
        }
    }
    merge(&mut document, overrides);
    toml::to_string(&document).unwrap()
}

#[test]
fn variants_and_files_with_includes_may_be_partial() {
    let validator = validator(&schema());
    let variant = format!(
        "{BASE}\n[variants.bigger.services.api]\ninstances = 4\n[variants.bigger.services.api.cpu]\nmean = \"30ms\"\n"
    );
    assert_eq!(errors(&validator, &variant), Vec::<String>::new());
    let bad_variant = format!("{BASE}\n[variants.bigger.services.api]\ninstance = 4\n");
    assert!(!errors(&validator, &bad_variant).is_empty(), "a misspelled key in a variant");
    let including = "include = [\"common.toml\"]\n[services.api]\ninstances = 8\n";
    assert_eq!(errors(&validator, including), Vec::<String>::new());
    let whole_without_include = "[services.api]\ninstances = 8\n";
    assert!(
        !errors(&validator, whole_without_include).is_empty(),
        "without include, [simulation] is required"
    );
    let sweep = format!("{BASE}\n[sweep]\n\"services.api.instances\" = [2, 4]\nreplications = 3\n");
    assert_eq!(errors(&validator, &sweep), Vec::<String>::new());
}

/// A unit's pattern takes exactly what its parser takes.
fn agree<T: FromStr>(definition: &str, samples: &[&str]) {
    let schema = schema();
    let unit = json!({ "$ref": format!("#/definitions/{definition}"), "definitions": schema["definitions"] });
    let validator = validator(&unit);
    for text in samples {
        let parses = text.parse::<T>().is_ok();
        assert_eq!(
            validator.is_valid(&json!(text)),
            parses,
            "{definition} {text:?}: the parser says {parses}"
        );
    }
}

#[test]
fn unit_patterns_take_what_the_parsers_take() {
    agree::<Duration>(
        "Duration",
        &[
            "250ms", "1.5s", "1h30m", "1m 30s", "30 s", "1.s", "2d", "5µs", "10ns", "3min", "", "5", "-1s",
            ".5s", "1h30", "5mins", "1x", "1.5.5s",
        ],
    );
    agree::<Rate>(
        "Rate",
        &["1200/s", "50/min", "3/h", "2.5/m", "1_000/s", "1e3/s", "+5/s", "5", "5/d", "-1/s", "/s", "x/s"],
    );
    agree::<Percent>("Percent", &["25%", "99.9%", "0%", "150%", "25 %", "1e1%", "25", "-5%", "%", "five%"]);
    agree::<ClockTime>(
        "ClockTime",
        &[
            "08:30",
            "8:30",
            "08:30:15",
            "23:59+1d",
            "00:15+365d",
            "24:00",
            "08:60",
            "08:30+366d",
            "0830",
            "08:3",
            "08:30:5",
            "08:30+d",
        ],
    );
    agree::<TimePoint>("TimePoint", &["08:41", "90m", "1h", "00:10+1d", "90", "25:00", "+5m"]);
}
