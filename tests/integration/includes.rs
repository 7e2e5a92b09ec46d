//! `include = [...]`: shared files merged under the including file, errors located in the
//! file that holds them with the chain of includes, loops, missing files and depth refused.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use stormsim::scenario::{load, load_str, load_variant};

/// Everything but the workload: simulation, classes, sources, clients and a service.
const COMMON: &str = r#"[simulation]
duration = "10m"
interval = "1m"

[classes.request]

[sources.users]
client = "app"
rate = "20/s"

[clients.app]
target = "api"
timeout = "1s"

[services.api]
instances = 2
cores = 2
cpu = "10ms"
"#;

/// Writes `files` (name, text) under a new temporary folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// The rendered error of loading `main` in `dir`, with the folder written as `DIR`.
fn refused(dir: &Path, main: &str) -> String {
    match load(&dir.join(main)) {
        Ok(_) => panic!("{main} loaded, but it should be refused"),
        Err(error) => error.to_string().replace(&dir.display().to_string(), "DIR"),
    }
}

#[test]
fn the_including_file_wins_over_what_it_includes() {
    let dir = folder(&[
        ("common.toml", COMMON),
        ("bigger.toml", "[services.api]\ninstances = 6\ncores = 8\n"),
        ("main.toml", "include = [\"common.toml\", \"bigger.toml\"]\n\n[services.api]\ncores = 4\n"),
    ]);
    let loaded = load(&dir.path().join("main.toml")).unwrap_or_else(|error| panic!("{error}"));
    let api = &loaded.scenario.services[0];
    assert_eq!(api.cores, 4, "the including file wins");
    assert_eq!(api.instances, 6, "a later include wins over an earlier one");
    assert_eq!(loaded.scenario.sources.len(), 1, "tables only the include has are kept");
    assert_eq!(loaded.scenario.name, "main", "the name comes from the including file");
    let common = dir.path().join("common.toml").display().to_string();
    assert!(loaded.resolved_toml.contains(&format!("# Included: {common}, ")), "{}", loaded.resolved_toml);
    // The merged result stands on its own.
    let again = load_str(&loaded.resolved_toml, "resolved.toml").unwrap();
    assert_eq!(again.scenario.services, loaded.scenario.services);
}

#[test]
fn paths_are_relative_to_the_including_file_and_may_repeat() {
    let dir = folder(&[
        ("shared/common.toml", "include = [\"service.toml\"]\n\n".to_string().as_str()),
        ("shared/service.toml", COMMON),
        ("shared/retry.toml", "include = [\"service.toml\"]\n\n[clients.app.retry]\nmax_attempts = 2\n"),
        ("scenarios/main.toml", "include = [\"../shared/common.toml\", \"../shared/retry.toml\"]\n"),
    ]);
    let loaded = load(&dir.path().join("scenarios/main.toml")).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(loaded.scenario.clients[0].retry.max_attempts, 2);
}

#[test]
fn variants_of_an_included_file_apply() {
    let dir = folder(&[
        ("common.toml", &format!("{COMMON}\n[variants.big.services.api]\ninstances = 8\n")),
        ("main.toml", "include = [\"common.toml\"]\n\n[variants.small.services.api]\ninstances = 1\n"),
    ]);
    let main = dir.path().join("main.toml");
    assert_eq!(load(&main).unwrap().variants, ["big", "small"]);
    assert_eq!(load_variant(&main, Some("big")).unwrap().scenario.services[0].instances, 8);
    assert_eq!(load_variant(&main, Some("small")).unwrap().scenario.services[0].instances, 1);
}

#[test]
fn an_error_in_an_included_file_points_into_it() {
    let dir = folder(&[
        ("common.toml", &COMMON.replace("cores = 2", "cores = 0")),
        ("main.toml", "# The shared parts.\ninclude = [\"common.toml\"]\n"),
    ]);
    let rendered = refused(dir.path(), "main.toml");
    assert!(
        rendered.starts_with("error: cores 0 is below the minimum of 1 at DIR/common.toml:17:9"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn an_unknown_key_in_a_nested_include_names_the_chain() {
    let dir = folder(&[
        ("service.toml", "[services.api]\ncpus = 2\n"),
        ("common.toml", &format!("include = [\"service.toml\"]\n{COMMON}")),
        ("main.toml", "include = [\"common.toml\"]\n"),
    ]);
    insta::assert_snapshot!(refused(dir.path(), "main.toml"));
}

#[test]
fn a_syntax_error_in_an_included_file_points_into_it() {
    let dir = folder(&[
        ("common.toml", &COMMON.replace("rate = \"20/s\"", "rate = \"20/s")),
        ("main.toml", "include = [\"common.toml\"]\n"),
    ]);
    insta::assert_snapshot!(refused(dir.path(), "main.toml"));
}

#[test]
fn an_error_in_the_including_file_points_into_it() {
    let dir = folder(&[
        ("common.toml", COMMON),
        ("main.toml", "include = [\"common.toml\"]\n\n[services.api]\nbalancer = \"rund_robin\"\n"),
    ]);
    let rendered = refused(dir.path(), "main.toml");
    assert!(
        rendered.starts_with(
            "error: unknown balancer \"rund_robin\" (did you mean \"round_robin\"?) at DIR/main.toml:4:12"
        ),
        "{rendered}"
    );
    assert!(!rendered.contains("note:"), "{rendered}");
}

#[test]
fn include_loop() {
    let dir = folder(&[
        ("a.toml", "include = [\"b.toml\"]\n"),
        ("b.toml", "include = [\"c.toml\"]\n"),
        ("c.toml", "include = [\"./a.toml\"]\n"),
    ]);
    insta::assert_snapshot!(refused(dir.path(), "a.toml"));
}

#[test]
fn a_file_that_includes_itself_is_a_loop() {
    let dir = folder(&[("a.toml", &format!("include = [\"a.toml\"]\n{COMMON}"))]);
    let rendered = refused(dir.path(), "a.toml");
    assert!(
        rendered.starts_with("error: include loop: DIR/a.toml → DIR/a.toml at DIR/a.toml:1:12"),
        "{rendered}"
    );
}

#[test]
fn include_of_a_missing_file() {
    let dir = folder(&[
        ("common.toml", &format!("include = [\"defaults/retry.toml\"]\n{COMMON}")),
        ("main.toml", "include = [\"common.toml\"]\n"),
    ]);
    insta::assert_snapshot!(refused(dir.path(), "main.toml"));
}

#[test]
fn includes_nested_too_deep() {
    let mut files: Vec<(String, String)> =
        (0..20).map(|n| (format!("f{n}.toml"), format!("include = [\"f{}.toml\"]\n", n + 1))).collect();
    files.push(("f20.toml".into(), COMMON.into()));
    let files: Vec<(&str, &str)> = files.iter().map(|(name, text)| (name.as_str(), text.as_str())).collect();
    let dir = folder(&files);
    let rendered = refused(dir.path(), "f0.toml");
    assert!(
        rendered.starts_with("error: includes nested more than 16 files deep: DIR/f0.toml → DIR/f1.toml → "),
        "{rendered}"
    );
    assert!(rendered.contains("at DIR/f15.toml:1:12 (include)"), "{rendered}");
    // Sixteen files deep is allowed.
    let rendered = load(&dir.path().join("f5.toml")).map(|_| ()).map_err(|error| error.to_string());
    assert_eq!(rendered, Ok(()));
}

#[test]
fn includes_repeated_into_too_many_files() {
    // Each level includes the next one four times: 4^5 files without the limit.
    let mut files: Vec<(String, String)> = (0..5)
        .map(|n| (format!("f{n}.toml"), format!("include = {:?}\n", vec![format!("f{}.toml", n + 1); 4])))
        .collect();
    files.push(("f5.toml".into(), "[guard]\nmax_events = 1_000\n".into()));
    files.push(("main.toml".into(), format!("include = [\"f0.toml\"]\n{COMMON}")));
    let files: Vec<(&str, &str)> = files.iter().map(|(name, text)| (name.as_str(), text.as_str())).collect();
    let dir = folder(&files);
    let rendered = refused(dir.path(), "main.toml");
    assert!(
        rendered.starts_with("error: more than 256 files in one scenario, counting each include at DIR/f"),
        "{rendered}"
    );
}

#[test]
fn include_of_a_folder() {
    let dir = folder(&[("main.toml", &format!("include = [\"shared\"]\n{COMMON}")), ("shared/x.toml", "")]);
    let rendered = refused(dir.path(), "main.toml");
    assert!(rendered.starts_with("error: included DIR/shared is not a file; include chain DIR/main.toml → DIR/shared at DIR/main.toml:1:12 (include)"), "{rendered}");
}

#[test]
fn include_in_text_without_a_file() {
    let text = format!("include = [\"common.toml\"]\n{COMMON}");
    insta::assert_snapshot!(load_str(&text, "inline.toml").unwrap_err().to_string());
}

#[test]
fn include_of_the_wrong_type() {
    let dir =
        folder(&[("a.toml", &format!("include = \"common.toml\"\n{COMMON}")), ("b.toml", "include = [3]\n")]);
    let rendered = refused(dir.path(), "a.toml");
    assert!(
        rendered.starts_with(
            "error: include is not an array at DIR/a.toml:1:11 (include); expected an array of file names"
        ),
        "{rendered}"
    );
    let rendered = refused(dir.path(), "b.toml");
    assert!(
        rendered.starts_with("error: an included file is not a string at DIR/b.toml:1:12 (include[0])"),
        "{rendered}"
    );
}

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

fn path_text(path: PathBuf) -> String {
    path.to_str().unwrap().to_string()
}

#[test]
fn validate_prints_the_merged_scenario() {
    let dir = folder(&[
        ("common.toml", COMMON),
        ("main.toml", "include = [\"common.toml\"]\n\n[services.api]\ncores = 4\n"),
    ]);
    let output = stormsim()
        .args(["validate", "--print-config", &path_text(dir.path().join("main.toml"))])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.contains("[sources.users]") && printed.contains("cores = 4"), "{printed}");
    assert!(!printed.contains("include ="), "{printed}");
    assert_eq!(load_str(&printed, "printed.toml").unwrap().scenario.services[0].cores, 4);
}

#[test]
fn a_run_with_an_include_loop_exits_2_and_writes_nothing() {
    let dir = folder(&[
        ("a.toml", "include = [\"b.toml\"]\n"),
        ("b.toml", &format!("include = [\"a.toml\"]\n{COMMON}")),
    ]);
    stormsim()
        .current_dir(dir.path())
        .args(["run", "a.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: include loop: a.toml → b.toml → a.toml at b.toml:1:12"));
    assert!(!dir.path().join("outputs").exists(), "nothing written");
}

/// The sections (`[table]` and the lines under it) of `text`, the lines before the first
/// header as one more.
fn sections(text: &str) -> Vec<String> {
    let mut res = vec![String::new()];
    for line in text.lines() {
        if line.starts_with('[') {
            res.push(String::new());
        }
        let last = res.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    res
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]

    /// A shipped scenario (without arrays of tables, which an include would replace, not
    /// extend) split between a file and its include loads as the whole file does.
    #[test]
    fn splitting_a_file_into_an_include_changes_nothing(
        file in proptest::sample::select(vec!["demo.toml", "examples/retry-limiters.toml", "validation/mmc.toml", "bench/retry.toml"]),
        picks in proptest::collection::vec(proptest::bool::ANY, 64),
    ) {
        let whole = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file)).unwrap();
        proptest::prop_assume!(!whole.contains("[["));
        let (mut main, mut common) = (String::from("include = [\"common.toml\"]\n"), String::new());
        for (section, to_common) in sections(&whole).into_iter().zip(picks.iter().cycle()).skip(1) {
            if *to_common { common.push_str(&section) } else { main.push_str(&section) }
        }
        let dir = folder(&[("main.toml", &main), ("common.toml", &common)]);
        let split = load(&dir.path().join("main.toml")).unwrap_or_else(|error| panic!("{error}\n{main}\n{common}"));
        let expected = load_str(&whole, "main.toml").unwrap();
        proptest::prop_assert_eq!(split.scenario, expected.scenario);
        proptest::prop_assert_eq!(split.thresholds, expected.thresholds);
    }
}
