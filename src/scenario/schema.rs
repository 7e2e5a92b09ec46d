//! The JSON Schema of a scenario file, generated from the types that read it (`file`), so
//! the two cannot drift apart. `stormsim schema` prints it; editors that speak JSON Schema
//! for TOML (taplo, Even Better TOML) use it for completion, hover docs and checking as
//! one types. The loader stays the authority: it also checks names, ranges and
//! combinations, which a schema cannot express.
//!
//! Added here, because the loader handles them before the typed read: `include`,
//! `[variants.NAME]` and `[sweep]`. A variant, and a file that includes others, writes only
//! what it changes, so every table has a partial form (`Partial_NAME`, nothing required);
//! the root offers the partial forms and requires the full ones only without `include`.
//! TOML has no null: where the types say "may be omitted" (`Option`), only the value is kept.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::file::ScenarioFile;

/// Where the definitions live, as draft-07 names it.
const DEFINITIONS: &str = "#/definitions/";
/// Prefix of a definition's partial form.
const PARTIAL: &str = "Partial_";

/// The schema as the JSON text `stormsim schema` prints and the repository keeps in
/// `schema/scenario.schema.json`.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The schema of a scenario file (JSON Schema draft 7, which taplo supports).
pub fn scenario_schema() -> Value {
    let generated = SchemaSettings::draft07().into_generator().into_root_schema_for::<ScenarioFile>();
    let mut root = generated.to_value();
    drop_null(&mut root);
    unwrap_descriptions(&mut root);
    let Value::Object(mut root) = root else { unreachable!("a struct's schema is an object") };
    let mut definitions = match root.remove("definitions") {
        Some(Value::Object(definitions)) => definitions,
        _ => Map::new(),
    };
    let body = json!({
        "description": "The keys of a scenario (what a variant overrides).",
        "type": "object",
        "properties": root["properties"].clone(),
        "additionalProperties": false,
        "required": root["required"].clone(),
    });
    definitions.insert("Scenario".into(), body);
    add_partials(&mut definitions);

    let mut properties = match definitions[&format!("{PARTIAL}Scenario")]["properties"].clone() {
        Value::Object(properties) => properties,
        _ => Map::new(),
    };
    properties.insert("include".into(), include());
    properties.insert("variants".into(), variants());
    properties.insert("sweep".into(), sweep());
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "stormsim scenario",
        "description": "A stormsim scenario file: clients, services, faults and targets. See `stormsim validate`.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        // Without includes the file is whole: its tables must be complete.
        "if": { "not": { "required": ["include"] } },
        "then": { "properties": root["properties"].clone(), "required": root["required"].clone() },
        "definitions": definitions,
    })
}

fn include() -> Value {
    json!({
        "description": "Files this one is built on, relative to it: merged in order, then this file's own tables over them.",
        "type": "array",
        "items": { "type": "string", "minLength": 1 },
    })
}

fn variants() -> Value {
    json!({
        "description": "`[variants.NAME]`: named overrides of the base scenario for `stormsim compare`; tables merge key by key, other values replace the base's.",
        "type": "object",
        "additionalProperties": { "$ref": format!("{DEFINITIONS}{PARTIAL}Scenario") },
    })
}

fn sweep() -> Value {
    json!({
        "description": "`[sweep]`: keys by dotted path and the values `stormsim sweep` runs, `\"services.api.instances\" = [4, 6, 8]`.",
        "type": "object",
        "properties": {
            "replications": { "description": "Seeds per grid point.", "type": "integer", "minimum": 1 },
            "metric": { "description": "The metric the sweep's chart draws, such as \"success_rate\".", "type": "string" },
        },
        "additionalProperties": {
            "description": "The values a key takes, one run per value.",
            "type": "array",
            "minItems": 1,
        },
    })
}

/// Removes `null` wherever serde's `Option` put it: from `type` lists, and from `anyOf`
/// lists (an `anyOf` left with one schema becomes that schema).
fn drop_null(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|kind| kind != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    object.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = object.get_mut("anyOf") {
                options.retain(|option| option != &json!({ "type": "null" }));
                if let [only] = options.as_slice() {
                    // Beside a `$ref`, draft 7 ignores other keys: `allOf` keeps the description.
                    let only = only.clone();
                    object.remove("anyOf");
                    object.insert("allOf".into(), Value::Array(vec![only]));
                }
            }
            object.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// Joins the lines of every description that a doc comment wrapped, keeping blank lines
/// as paragraph breaks, so an editor's hover reflows them to its width.
fn unwrap_descriptions(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if let Some(Value::String(text)) = object.get_mut("description") {
                *text = text
                    .split("\n\n")
                    .map(|paragraph| paragraph.replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            object.values_mut().for_each(unwrap_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// Adds `Partial_NAME` for every definition that requires keys or refers to another: the
/// same schema with nothing required, referring to partial forms.
fn add_partials(definitions: &mut Map<String, Value>) {
    let names: Vec<String> = definitions
        .iter()
        .filter(|(_, schema)| mentions(schema, "required") || mentions(schema, "$ref"))
        .map(|(name, _)| name.clone())
        .collect();
    for name in &names {
        let mut partial = definitions[name].clone();
        make_partial(&mut partial, &names);
        definitions.insert(format!("{PARTIAL}{name}"), partial);
    }
}

fn mentions(schema: &Value, key: &str) -> bool {
    match schema {
        Value::Object(object) => {
            object.contains_key(key) || object.values().any(|value| mentions(value, key))
        }
        Value::Array(items) => items.iter().any(|value| mentions(value, key)),
        _ => false,
    }
}

fn make_partial(schema: &mut Value, partial_names: &[String]) {
    match schema {
        Value::Object(object) => {
            object.remove("required");
            if let Some(Value::String(target)) = object.get_mut("$ref")
                && let Some(name) = target.strip_prefix(DEFINITIONS)
                && partial_names.iter().any(|partial| partial == name)
            {
                *target = format!("{DEFINITIONS}{PARTIAL}{name}");
            }
            for (key, value) in object.iter_mut() {
                // Property names are data, not schema keywords: a key called `required` stays.
                if key == "properties" {
                    if let Value::Object(properties) = value {
                        properties.values_mut().for_each(|value| make_partial(value, partial_names));
                    }
                } else {
                    make_partial(value, partial_names);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|value| make_partial(value, partial_names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_omissions_not_nulls() {
        let text = text();
        assert!(!text.contains("\"null\""), "TOML has no null");
        let schema = scenario_schema();
        let seed = &schema["definitions"]["SimulationFile"]["properties"]["seed"];
        assert_eq!(seed["allOf"][0]["$ref"], "#/definitions/Count", "{seed}");
    }

    #[test]
    fn descriptions_are_reflowed_lines() {
        let schema = scenario_schema();
        let timezone =
            schema["definitions"]["SimulationFile"]["properties"]["timezone"]["description"].as_str();
        assert!(
            timezone.is_some_and(|text| text.contains("date only (default") && !text.contains('\n')),
            "{timezone:?}"
        );
    }

    #[test]
    fn partial_forms_require_nothing_and_refer_to_partial_forms() {
        let schema = scenario_schema();
        let definitions = schema["definitions"].as_object().unwrap();
        let service = &definitions["Partial_ServiceFile"];
        assert!(definitions["ServiceFile"]["required"].as_array().is_some_and(|keys| !keys.is_empty()));
        assert!(!mentions(service, "required"), "{service}");
        assert_eq!(service["properties"]["cpu"]["allOf"][0]["$ref"], "#/definitions/Partial_CpuFile");
        // A root without `include` is whole; with it, partial.
        assert_eq!(schema["then"]["required"], json!(["simulation"]));
        assert_eq!(
            schema["properties"]["simulation"]["allOf"][0]["$ref"],
            "#/definitions/Partial_SimulationFile"
        );
    }
}
