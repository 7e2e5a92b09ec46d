//! Broken scenario files and the errors they get: every error names the file, line, column
//! and key, says what would be valid, and shows the source with a caret.
//!
//! Each case is a small edit of `BASE`, a valid scenario, so the snapshot shows only what the
//! edit broke. Snapshots live in `snapshots/`; review a change with `cargo insta review` or
//! by reading the `.snap.new` file.

use stormsim::scenario::{Stage, load_str, load_str_variant};

const FILE: &str = "broken.toml";

const BASE: &str = r#"[simulation]
duration = "1h"
start = "06:00"

[classes.login]
share = "40%"

[classes.browse]
share = "60%"

[sources.users]
client = "app"
rate = [{ at = "06:00", rate = "50/s" }, { at = "06:30", rate = "100/s" }]

[clients.app]
target = "api"
timeout = "2s"

[clients.app.retry]
max_attempts = 3
backoff = { base = "100ms", cap = "20s", jitter = "full" }

[clients.batch]
target = "api"

[services.api]
instances = 4
cores = 2
balancer = "round_robin"
cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }
"#;

/// `BASE` with its first `old` replaced by `new`.
fn edit(old: &str, new: &str) -> String {
    assert!(BASE.contains(old), "BASE has no {old:?}");
    BASE.replacen(old, new, 1)
}

/// Loads a scenario that must be refused and returns the rendered error.
fn check_broken(toml: &str) -> String {
    match load_str(toml, FILE) {
        Ok(_) => panic!("this scenario loaded, but it should be refused:\n{toml}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_base_scenario_is_valid() {
    load_str(BASE, FILE).unwrap_or_else(|error| panic!("{error}"));
}

/// One snapshot test per broken file.
macro_rules! broken {
    ($($name:ident: $toml:expr;)+) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(check_broken(&$toml));
            }
        )+
    };
}

/// `BASE`'s source turned into a closed loop: its rate line replaced by `keys`.
fn closed(keys: &str) -> String {
    edit(r#"rate = [{ at = "06:00", rate = "50/s" }, { at = "06:30", rate = "100/s" }]"#, keys)
}

broken! {
    closed_loop_without_users: closed("kind = \"closed_loop\"\nthink_time = \"1s\"");
    closed_loop_without_think_time: closed("kind = \"closed_loop\"\nusers = 50");
    closed_loop_with_a_rate: edit("rate = [", "kind = \"closed_loop\"\nusers = 50\nthink_time = \"1s\"\nrate = [");
    closed_loop_with_arrivals: closed("kind = \"closed_loop\"\nusers = 50\nthink_time = \"1s\"\narrivals = { cv = 2 }");
    users_on_an_open_loop: edit("rate = [", "users = 50\nrate = [");
    no_users: closed("kind = \"closed_loop\"\nusers = 0\nthink_time = \"1s\"");
    users_above_limit: closed("kind = \"closed_loop\"\nusers = 2_000_000\nthink_time = \"1s\"");
    users_not_a_whole_number: closed("kind = \"closed_loop\"\nusers = 2.5\nthink_time = \"1s\"");
    users_profile_out_of_order: closed("kind = \"closed_loop\"\nusers = [{ at = \"06:30\", users = 5 }, { at = \"06:10\", users = 9 }]\nthink_time = \"1s\"");
    think_time_zero: closed("kind = \"closed_loop\"\nusers = 50\nthink_time = \"0s\"");
    think_time_impossible_lognormal: closed("kind = \"closed_loop\"\nusers = 50\nthink_time = { dist = \"lognormal\", mean = \"1s\", p99 = \"30s\" }");
    unknown_source_kind: closed("kind = \"closed\"\nusers = 50\nthink_time = \"1s\"");
    source_without_rate: closed("");
    arrivals_cv_out_of_range: edit("rate = [", "arrivals = { cv = 12 }\nrate = [");
    arrivals_unknown_key: edit("rate = [", "arrivals = { scv = 4 }\nrate = [");
    trace_without_a_scenario_file: closed("trace = { file = \"traces/monday.csv\" }");
    trace_beside_a_rate: edit("rate = [", "trace = { file = \"traces/monday.csv\" }\nrate = [");
    trace_shift_without_unit: closed("trace = { file = \"traces/monday.csv\", shift = 7 }");
    trace_unknown_key: closed("trace = { file = \"traces/monday.csv\", scaling = 1.3 }");
    trace_unknown_interpolation: closed("trace = { file = \"traces/monday.csv\", interpolation = \"cubic\" }");
    surge_of_no_length: edit("rate = [", "surge = { at = \"06:10\", factor = 3, over = \"0s\" }\nrate = [");
    surge_factor_zero: edit("rate = [", "surge = { at = \"06:10\", factor = 0, over = \"5s\" }\nrate = [");
    surge_without_factor: edit("rate = [", "surge = { at = \"06:10\", over = \"5s\" }\nrate = [");
    surge_before_the_start: edit("rate = [", "surge = { at = \"05:10\", factor = 3, over = \"5s\" }\nrate = [");
    absurd_horizon: edit(r#"duration = "1h""#, r#"duration = "1000000000000000s""#);
    warmup_not_a_whole_number_of_intervals: edit(r#"duration = "1h""#, "duration = \"1h\"\nwarmup = \"90s\"");
    warmup_as_long_as_the_run: edit(r#"duration = "1h""#, "duration = \"1h\"\nwarmup = \"1h\"");
    warmup_without_a_unit: edit(r#"duration = "1h""#, "duration = \"1h\"\nwarmup = 600");
    absurd_instances: edit("instances = 4", "instances = 1_000_000_000_000");
    absurd_rate: edit(r#"rate = "100/s""#, r#"rate = "1e15/s""#);
    infinite_rate: edit(r#"rate = "100/s""#, r#"rate = "inf/s""#);
    nan_multiplier: edit("instances = 4", "instances = 4\ncpu_multiplier = nan");
    zone_loss_of_an_unknown_zone: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"zone_loss\"\nservice = \"api\"\nzone = \"c\"\n");
    repeated_zone: edit("instances = 4", "instances = 4\nzones = [\"a\", \"a\"]");
    error_rate_above_100: edit("instances = 4", "instances = 4\nerror_rate = \"101%\"");
    call_through_unknown_client: edit("instances = 4", "instances = 4\ncalls = [{ client = \"db\" }]");
    calls_that_loop: edit("instances = 4", "instances = 4\ncalls = [{ client = \"batch\" }]");
    call_probability_above_100: edit("instances = 4", "instances = 4\ncalls = [{ client = \"batch\", probability = \"120%\" }]");
    limiter_negative_ratio: edit("target = \"api\"\ntimeout", "target = \"api\"\nlimiter = { preset = \"finagle\", percent_can_retry = \"-10%\" }\ntimeout");
    limiter_breaker_window_zero: edit("target = \"api\"\ntimeout", "target = \"api\"\nlimiter = { preset = \"resilience4j\", window = 0 }\ntimeout");
    limiter_unknown_preset_in_table: edit("target = \"api\"\ntimeout", "target = \"api\"\nlimiter = { preset = \"hystrix\" }\ntimeout");
    limiter_parameter_of_another_preset: edit("target = \"api\"\ntimeout", "target = \"api\"\nlimiter = { preset = \"grpc\", ttl = \"10s\" }\ntimeout");
    limiter_ratio_above_one: edit("target = \"api\"\ntimeout", "target = \"api\"\nlimiter = { preset = \"envoy\", budget_fraction = \"150%\" }\ntimeout");
    hedge_beside_retries: edit("target = \"api\"\ntimeout", "target = \"api\"\nhedge = { delay = \"50ms\" }\ntimeout");
    hedge_zero_delay: edit("[clients.batch]\ntarget = \"api\"", "[clients.batch]\ntarget = \"api\"\nhedge = { delay = \"0ms\" }");
    hedge_too_many_attempts: edit("[clients.batch]\ntarget = \"api\"", "[clients.batch]\ntarget = \"api\"\nhedge = { delay = \"50ms\", max_attempts = 6 }");
    hedge_without_delay: edit("[clients.batch]\ntarget = \"api\"", "[clients.batch]\ntarget = \"api\"\nhedge = { max_attempts = 2 }");
    human_retry_probability_above_100: edit("target = \"api\"\ntimeout", "target = \"api\"\nhuman_retry = { probability = \"150%\", think_time = \"5s\" }\ntimeout");
    human_retry_zero_think_time: edit("target = \"api\"\ntimeout", "target = \"api\"\nhuman_retry = { probability = \"50%\", think_time = \"0s\" }\ntimeout");
    human_retry_on_a_client_no_user_waits_on: edit("[clients.batch]\ntarget = \"api\"", "[clients.batch]\ntarget = \"api\"\nhuman_retry = { probability = \"50%\", think_time = \"5s\" }");
    deadline_zero: edit("target = \"api\"\ntimeout", "target = \"api\"\ndeadline = \"0s\"\ntimeout");
    queue_unknown_discipline: edit("instances = 4", "instances = 4\nqueue = { discipline = \"random\" }");
    codel_target_above_interval: edit("instances = 4", "instances = 4\nqueue = { discipline = \"codel\", codel_target = \"200ms\" }");
    codel_keys_on_fifo: edit("instances = 4", "instances = 4\nqueue = { discipline = \"fifo\", codel_target = \"5ms\" }");
    shed_above_zero: edit("instances = 4", "instances = 4\nshed_above = \"0%\"");
    concurrency_limit_unknown_kind: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"vegas\" }");
    concurrency_limit_zero: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"static\", limit = 0 }");
    concurrency_limit_static_without_limit: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"static\" }");
    concurrency_limit_key_of_another_kind: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"aimd\", smoothing = 0.5 }");
    concurrency_limit_backoff_ratio_above_one: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"aimd\", backoff_ratio = 1.5 }");
    concurrency_limit_min_above_max: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"gradient2\", min_limit = 50, max_limit = 40 }");
    concurrency_limit_min_above_default_max: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"aimd\", min_limit = 300 }");
    concurrency_limit_initial_above_max: edit("instances = 4", "instances = 4\nconcurrency_limit = { kind = \"aimd\", initial_limit = 500 }");
    concurrency_limit_rtt_tolerance_below_one: format!("{BASE}\n[services.api.concurrency_limit]\nkind = \"gradient2\"\nrtt_tolerance = 0.5\n");
    reject_cpu_over_a_day: edit("instances = 4", "instances = 4\nreject_cpu = \"2d\"");
    unknown_criticality: edit("share = \"40%\"", "share = \"40%\"\ncriticality = \"important\"");
    timeline_unknown_action: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"reboot\"\nservice = \"api\"\n");
    timeline_missing_time: format!("{BASE}\n[[timeline]]\naction = \"scale_to\"\nservice = \"api\"\ninstances = 8\n");
    timeline_time_after_the_end: format!("{BASE}\n[[timeline]]\nat = \"08:00\"\naction = \"scale_to\"\nservice = \"api\"\ninstances = 8\n");
    timeline_key_the_action_does_not_take: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"scale_to\"\nservice = \"api\"\ninstances = 8\nreporting = \"0%\"\n");
    timeline_missing_key_of_the_action: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"metrics\"\nservice = \"api\"\n");
    timeline_unknown_service: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"instance_loss\"\nservice = \"ap\"\ncount = 1\n");
    timeline_reporting_above_100: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"metrics\"\nservice = \"api\"\nreporting = \"120%\"\n");
    timeline_unknown_limiter: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"limiter\"\nclient = \"app\"\nlimiter = \"finagel\"\n");
    timeline_zero_multiplier: format!("{BASE}\n[[timeline]]\nat = \"06:10\"\naction = \"cpu_multiplier\"\nservice = \"api\"\nvalue = 0\n");
    autoscaler_unknown_preset: format!("{BASE}\n[services.api.autoscaler]\npreset = \"keda\"\nmax = 10\n");
    autoscaler_unknown_blind_policy: format!("{BASE}\n[services.api.autoscaler]\nmax = 10\nwhen_blind = \"panic\"\n");
    autoscaler_min_above_max: format!("{BASE}\n[services.api.autoscaler]\nmin = 12\nmax = 10\n");
    autoscaler_target_zero: format!("{BASE}\n[services.api.autoscaler]\nmax = 10\ntarget = \"0%\"\n");
    autoscaler_instances_outside_bounds: format!("{BASE}\n[services.api.autoscaler]\nmin = 5\nmax = 10\n");
    metrics_period_zero: format!("{BASE}\n[services.api.metrics]\nperiod = \"0s\"\n");
    boot_delay_over_a_day: edit("instances = 4", "instances = 4\nboot_delay = \"2d\"");
    alert_without_threshold: format!("{BASE}\n[alerts.errors]\nmetric = \"success_rate\"\n");
    alert_threshold_in_the_wrong_unit: format!("{BASE}\n[alerts.errors]\nmetric = \"latency_p99\"\nabove = \"99%\"\n");
    alert_service_metric_without_service: format!("{BASE}\n[alerts.stale]\nmetric = \"metrics_staleness\"\nabove = \"10m\"\n");
    alert_then_without_after: format!("{BASE}\n[alerts.errors]\nmetric = \"success_rate\"\nbelow = \"99%\"\n\n[alerts.errors.then]\naction = \"scale_to\"\nservice = \"api\"\ninstances = 8\n");
    slo_above_100: format!("{BASE}\n[slo]\nsuccess_rate = \"100.5%\"\n");
    unknown_top_level_key: format!("{BASE}\n[metrics]\nperiod = \"15s\"\n");
    unknown_nested_key: edit(r#"cap = "20s","#, r#"cap = "20s", jiter = "full","#);
    unknown_simulation_key: edit(r#"duration = "1h""#, "duration = \"1h\"\nhorizon = \"5m\"");
    wrong_type: edit("instances = 4", r#"instances = "4""#);
    fractional_count: edit("cores = 2", "cores = 2.5");
    negative_rate: edit(r#"rate = "50/s""#, r#"rate = "-50/s""#);
    nan_rate: edit(r#"rate = "100/s""#, r#"rate = "NaN/s""#);
    rate_above_limit: edit(r#"rate = "100/s""#, r#"rate = "2e9/s""#);
    p99_below_mean: edit(r#"p99 = "60ms""#, r#"p99 = "15ms""#);
    p99_too_large_for_lognormal: edit(r#"p99 = "60ms""#, r#"p99 = "400ms""#);
    lognormal_without_p99: edit(r#", p99 = "60ms""#, "");
    exponential_with_p99: edit(r#"dist = "lognormal""#, r#"dist = "exponential""#);
    unknown_distribution: edit(r#"dist = "lognormal""#, r#"dist = "normal""#);
    zero_cpu_cost: edit(r#"cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }"#, r#"cpu = "0ms""#);
    zero_cores: edit("cores = 2", "cores = 0");
    zero_instances: edit("instances = 4", "instances = 0");
    too_many_instances: edit("instances = 4", "instances = 250_000");
    zero_workers: edit("cores = 2", "cores = 2\nworkers = 0");
    negative_queue_capacity: edit("cores = 2", "cores = 2\nqueue = { capacity = -1 }");
    unknown_queue_capacity: edit("cores = 2", "cores = 2\nqueue = { capacity = \"infinite\" }");
    empty_profile: edit(r#"[{ at = "06:00", rate = "50/s" }, { at = "06:30", rate = "100/s" }]"#, "[]");
    profile_time_out_of_order: edit(r#"at = "06:30""#, r#"at = "05:59+1d", rate = "1/s" }, { at = "07:00""#);
    profile_duration_out_of_order: edit(r#"{ at = "06:00", rate = "50/s" }, { at = "06:30""#, r#"{ at = "30m", rate = "50/s" }, { at = "30m""#);
    missing_unit_on_duration: edit(r#"duration = "1h""#, r#"duration = "30""#);
    bare_number_duration: edit(r#"duration = "1h""#, "duration = 30");
    unknown_duration_unit: edit(r#"timeout = "2s""#, r#"timeout = "2sec""#);
    missing_unit_on_rate: edit(r#"rate = "50/s""#, r#"rate = "100""#);
    missing_percent_sign: edit(r#"share = "40%""#, "share = 0.4");
    unknown_jitter: edit(r#"jitter = "full""#, r#"jitter = "ful""#);
    unknown_limiter_preset: edit(r#"timeout = "2s""#, "timeout = \"2s\"\nlimiter = \"gprc\"");
    unknown_balancer: edit(r#"balancer = "round_robin""#, r#"balancer = "least_connections""#);
    unknown_retry_outcome: edit("max_attempts = 3", "max_attempts = 3\non = [\"timeout\", \"failure\"]");
    unknown_client_reference: edit(r#"client = "app""#, r#"client = "ap""#);
    unknown_service_reference: edit("target = \"api\"\ntimeout", "target = \"apii\"\ntimeout");
    unknown_class_in_service_override: format!("{BASE}\n[services.api.classes.logon]\ncpu = \"5ms\"\n");
    shares_not_summing_to_100: edit(r#"share = "60%""#, r#"share = "50%""#);
    share_missing_with_several_classes: edit("share = \"60%\"\n", "");
    zero_share: edit(r#"share = "40%""#, r#"share = "0%""#);
    clock_time_without_start: edit("start = \"06:00\"\n", "");
    clock_time_before_start: edit(r#"at = "06:00""#, r#"at = "05:30""#);
    start_on_a_later_day: edit(r#"start = "06:00""#, r#"start = "06:00+1d""#);
    toml_syntax_error: edit("instances = 4", "instances = = 4");
    unterminated_string: edit(r#"target = "api""#, r#"target = "api"#);
    duplicate_key: edit("cores = 2", "cores = 2\ncores = 4");
    missing_required_key: edit("cores = 2\n", "");
    missing_simulation_table: BASE.replacen("[simulation]\nduration = \"1h\"\nstart = \"06:00\"\n", "", 1);
    no_service: BASE.split("[services.api]").next().unwrap();
    zero_duration: edit(r#"duration = "1h""#, r#"duration = "0s""#);
    duration_above_limit: edit(r#"duration = "1h""#, r#"duration = "400d""#);
    interval_longer_than_duration: edit(r#"duration = "1h""#, "duration = \"1h\"\ninterval = \"2h\"");
    default_interval_longer_than_duration: edit(r#"duration = "1h""#, r#"duration = "30s""#);
    too_many_intervals: edit(r#"duration = "1h""#, "duration = \"1h\"\ninterval = \"1ms\"");
    zero_guard: format!("{BASE}\n[guard]\nmax_in_flight = 0\n");
    max_attempts_zero: edit("max_attempts = 3", "max_attempts = 0");
    max_attempts_above_limit: edit("max_attempts = 3", "max_attempts = 1000");
    retries_with_nothing_to_retry_on: edit("max_attempts = 3", "max_attempts = 3\non = []");
    cap_below_base: edit(r#"cap = "20s""#, r#"cap = "50ms""#);
    base_above_default_cap: edit(r#"base = "100ms", cap = "20s", "#, r#"base = "30s", "#);
    multiplier_below_one: edit(r#"cap = "20s","#, r#"cap = "20s", multiplier = 0.5,"#);
    zero_timeout: edit(r#"timeout = "2s""#, r#"timeout = "0s""#);
}

/// Loads `toml` with the variant `variant` applied; it must be refused.
fn check_broken_variant(toml: &str, variant: &str) -> String {
    match load_str_variant(toml, FILE, Some(variant)) {
        Ok(_) => panic!("variant {variant} loaded, but it should be refused:\n{toml}"),
        Err(error) => error.to_string(),
    }
}

/// `BASE` with a `[variants.pooled]` that gives the API more cores and a tighter timeout.
fn with_variant(extra: &str) -> String {
    format!(
        "{BASE}\n[variants.pooled.services.api]\ncores = 4\n{extra}\n[variants.pooled.clients.app]\ntimeout = \"1s\"\n"
    )
}

#[test]
fn the_base_with_a_variant_is_valid() {
    let loaded =
        load_str_variant(&with_variant(""), FILE, Some("pooled")).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(loaded.scenario.services[0].cores, 4);
    assert_eq!(loaded.variants, ["pooled"]);
}

#[test]
fn unknown_variant_key() {
    insta::assert_snapshot!(check_broken_variant(&with_variant("cpus = 8"), "pooled"));
}

#[test]
fn unknown_variant_name() {
    insta::assert_snapshot!(check_broken_variant(&with_variant(""), "pool"));
}

#[test]
fn variant_value_out_of_range() {
    insta::assert_snapshot!(check_broken_variant(&with_variant("instances = 0"), "pooled"));
}

#[test]
fn variant_with_a_bad_unit() {
    insta::assert_snapshot!(check_broken_variant(&with_variant("cpu = \"20\""), "pooled"));
}

/// `BASE` with one `[[thresholds]]` table holding `body`.
fn with_threshold(body: &str) -> String {
    format!("{BASE}\n[[thresholds]]\n{body}\n")
}

broken! {
    threshold_on_unknown_metric: with_threshold("metric = \"sucess_rate\"\ncomparison = \">=\"\nvalue = \"99%\"");
    threshold_unknown_aggregation: with_threshold("metric = \"latency\"\naggregation = \"p95\"\ncomparison = \"<\"\nvalue = \"250ms\"");
    threshold_unknown_comparison: with_threshold("metric = \"success_rate\"\ncomparison = \"=>\"\nvalue = \"99%\"");
    threshold_value_without_percent: with_threshold("metric = \"success_rate\"\ncomparison = \">=\"\nvalue = 0.99");
    threshold_unknown_class: with_threshold("metric = \"success_rate\"\nclass = \"logon\"\ncomparison = \">=\"\nvalue = \"99%\"");
    threshold_window_without_series: with_threshold("metric = \"latency.mean\"\ncomparison = \"<\"\nvalue = \"1s\"\nwindow = { sliding = \"10m\" }");
    threshold_window_before_start: with_threshold("metric = \"success_rate\"\ncomparison = \">=\"\nvalue = \"99%\"\nwindow = { from = \"05:00\", to = \"06:30\" }");
    threshold_unknown_statistic: with_threshold("metric = \"success_rate\"\ncomparison = \">=\"\nvalue = \"99%\"\nstatistic = \"median\"");
}

/// The error's first line, taken apart: `error: <message> at <file>:<line>:<col> (<key>)`
/// with an optional `; expected <valid>`. Returns (line, column, key).
fn first_line_parts(rendered: &str) -> (usize, usize, String) {
    let first = rendered.lines().next().unwrap();
    let rest = first.strip_prefix("error: ").unwrap_or_else(|| panic!("no \"error: \" in {first:?}"));
    let marker = format!(" at {FILE}:");
    let (_message, location) =
        rest.split_once(&marker).unwrap_or_else(|| panic!("no {marker:?} in {first:?}"));
    let (position, key_and_expected) =
        location.split_once(' ').unwrap_or_else(|| panic!("no key in {first:?}"));
    let (line, column) = position.split_once(':').unwrap();
    let key = key_and_expected.strip_prefix('(').and_then(|rest| rest.split_once(')')).map(|(key, _)| key);
    let key = key.unwrap_or_else(|| panic!("no (key) in {first:?}"));
    (line.parse().unwrap(), column.parse().unwrap(), key.to_string())
}

#[test]
fn toml_errors_and_semantic_errors_share_the_first_line_format() {
    let cases = [
        (edit("instances = 4", "instances = = 4"), Stage::Parse, "services.api.instances"),
        (edit("instances = 4", r#"instances = "4""#), Stage::Parse, "services.api.instances"),
        (edit(r#"jitter = "full""#, r#"jitter = "ful""#), Stage::Parse, "clients.app.retry.backoff.jitter"),
        (edit("cores = 2", "cores = 0"), Stage::Resolve, "services.api.cores"),
        (edit(r#"client = "app""#, r#"client = "ap""#), Stage::Resolve, "sources.users.client"),
    ];
    for (toml, stage, key) in cases {
        let error = load_str(&toml, FILE).unwrap_err();
        let diagnostic = error.diagnostic().expect("a located error");
        assert_eq!(diagnostic.stage, stage, "{error}");
        let rendered = error.to_string();
        let (line, column, first_line_key) = first_line_parts(&rendered);
        assert_eq!((line, column), (diagnostic.line, diagnostic.column));
        assert_eq!(first_line_key, key);
        let source_line = toml.lines().nth(line - 1).unwrap();
        assert!(
            rendered.contains(&format!("{line} | {source_line}")),
            "the snippet shows line {line}:\n{rendered}"
        );
        assert!(
            rendered.lines().any(|text| text.trim_start().starts_with('|') && text.contains('^')),
            "{rendered}"
        );
    }
}

#[test]
fn every_snapshot_names_a_location_and_a_key() {
    // The snapshots are reviewed by eye; this keeps the mechanical part honest.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/snapshots");
    let mut n_checked = 0;
    for entry in std::fs::read_dir(&dir).expect("the snapshot folder exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if !(name.starts_with("integration__broken_scenarios__") && name.ends_with(".snap")) {
            continue;
        }
        n_checked += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text.splitn(3, "---").nth(2).unwrap_or_else(|| panic!("{} has no header", path.display()));
        let (line, column, key) = first_line_parts(body.trim_start());
        assert!(line >= 1 && column >= 1 && !key.is_empty(), "{}", path.display());
    }
    assert!(n_checked >= 20, "only {n_checked} broken-scenario snapshots found");
}

/// Two regions, and `api` deployed in both (so `app` and `batch` route between them).
const REGIONS: &str =
    "\n[regions.eastus]\nzones = [\"eastus-1\", \"eastus-2\"]\n\n[regions.westus]\nzones = [\"westus-1\"]\n";

/// `BASE` with `api` deployed in both regions, then `old` replaced by `new`.
fn regional(old: &str, new: &str) -> String {
    let toml =
        format!("{}{REGIONS}", edit("instances = 4", "instances = 4\nregions = [\"eastus\", \"westus\"]"));
    assert!(toml.contains(old), "the regional base has no {old:?}");
    toml.replacen(old, new, 1)
}

#[test]
fn the_regional_base_is_valid() {
    let loaded = load_str(&regional("", ""), FILE).unwrap_or_else(|error| panic!("{error}"));
    let pools: Vec<&str> = loaded.scenario.services.iter().map(|service| service.name.as_str()).collect();
    assert_eq!(pools, ["api@eastus", "api@westus"]);
}

broken! {
    region_unknown_in_a_service: regional("regions = [\"eastus\", \"westus\"]", "regions = [\"eastus\", \"westeurope\"]");
    region_repeated_in_a_service: regional("regions = [\"eastus\", \"westus\"]", "regions = [\"eastus\", \"eastus\"]");
    regions_without_region_tables: edit("instances = 4", "instances = 4\nregions = [\"eastus\"]");
    zones_beside_regions: regional("regions = [\"eastus\", \"westus\"]", "regions = [\"eastus\", \"westus\"]\nzones = [\"a\", \"b\"]");
    zone_in_two_regions: regional("zones = [\"westus-1\"]", "zones = [\"eastus-2\"]");
    home_shares_not_summing_to_100: regional("client = \"app\"", "client = \"app\"\nregions = { eastus = \"60%\", westus = \"30%\" }");
    home_in_an_unknown_region: regional("client = \"app\"", "client = \"app\"\nregions = { eastus = \"60%\", centralus = \"40%\" }");
    home_without_regions: edit("client = \"app\"", "client = \"app\"\nregions = { eastus = \"100%\" }");
    routing_to_a_target_without_regions: format!("{BASE}\n[clients.batch.routing]\nretry_region = \"next\"\n");
    routing_unknown_retry_region: format!("{}\n[clients.app.routing]\nretry_region = \"elsewhere\"\n", regional("", ""));
    routing_failover_cap_above_100: format!("{}\n[clients.app.routing]\nfailover_cap = \"120%\"\n", regional("", ""));
    routing_window_without_a_threshold: format!("{}\n[clients.app.routing]\nwindow = \"30s\"\n", regional("", ""));
    routing_zero_error_rate: format!("{}\n[clients.app.routing]\nerror_rate_above = \"0%\"\n", regional("", ""));
    routing_unknown_key: format!("{}\n[clients.app.routing]\nfailover = \"dns\"\n", regional("", ""));
    region_loss_of_an_unknown_region: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"region_loss\"\nregion = \"centralus\"\n", regional("", ""));
    region_loss_of_a_service_not_there: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"region_loss\"\nregion = \"westus\"\nservice = \"web\"\n\n[services.web]\ninstances = 1\ncores = 1\ncpu = \"1ms\"\nregions = [\"eastus\"]\n", regional("", ""));
    region_loss_without_region: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"region_loss\"\nservice = \"api\"\n", regional("", ""));
    zone_loss_of_a_zone_no_pool_has: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"zone_loss\"\nservice = \"api\"\nzone = \"eastus-3\"\n", regional("", ""));
    alert_on_a_service_with_regions: format!("{}\n[alerts.hot]\nmetric = \"cpu_utilisation\"\nservice = \"api\"\nabove = \"90%\"\n", regional("", ""));
}

/// A telephony dependency with two providers, which `api` calls through `sms`.
const PROVIDERS: &str = r#"
[clients.sms]
target = "telephony"
timeout = "2s"

[dependencies.telephony]

[[dependencies.telephony.providers]]
name = "primary"
latency = { dist = "exponential", mean = "300ms" }

[[dependencies.telephony.providers]]
name = "backup"
latency = "500ms"
"#;

/// `BASE` with `api` calling the telephony dependency, then `old` replaced by `new`.
fn external(old: &str, new: &str) -> String {
    let toml =
        format!("{}{PROVIDERS}", edit("instances = 4", "instances = 4\ncalls = [{ client = \"sms\" }]"));
    assert!(toml.contains(old), "the dependency base has no {old:?}");
    toml.replacen(old, new, 1)
}

/// Four cells, `api` in each, and a release over them.
const CELLS: &str = "\n[cells]\ncount = 4\n\n[release]\nat = \"06:10\"\nchange = { cpu_multiplier = 1.4 }\nwaves = [[\"cell-1\"], [\"cell-2\", \"cell-3\"], [\"cell-4\"]]\nbake = \"10m\"\ngate = { success_rate_below = \"99%\" }\nrollback = true\n";

/// `BASE` with `api` in four cells and a release, then `old` replaced by `new`.
fn cellular(old: &str, new: &str) -> String {
    let toml = format!("{}{CELLS}", edit("instances = 4", "instances = 4\ncells = true"));
    assert!(toml.contains(old), "the cellular base has no {old:?}");
    toml.replacen(old, new, 1)
}

#[test]
fn the_dependency_base_is_valid() {
    let loaded = load_str(&external("", ""), FILE).unwrap_or_else(|error| panic!("{error}"));
    let pools: Vec<&str> = loaded.scenario.services.iter().map(|service| service.name.as_str()).collect();
    assert_eq!(pools, ["api", "telephony/primary", "telephony/backup"]);
    let router = loaded.scenario.clients[2].router.as_ref().expect("sms fails over between the providers");
    assert_eq!(router.destinations.len(), 2);
}

broken! {
    provider_repeated: external("name = \"backup\"", "name = \"primary\"");
    provider_name_with_a_slash: external("name = \"backup\"", "name = \"back/up\"");
    providers_missing: external("[[dependencies.telephony.providers]]\nname = \"primary\"\nlatency = { dist = \"exponential\", mean = \"300ms\" }\n\n[[dependencies.telephony.providers]]\nname = \"backup\"\nlatency = \"500ms\"\n", "");
    provider_without_latency: external("latency = \"500ms\"\n", "");
    provider_error_rate_above_100: external("latency = \"500ms\"", "latency = \"500ms\"\nerror_rate = \"150%\"");
    provider_zero_concurrency: external("latency = \"500ms\"", "latency = \"500ms\"\nconcurrency = 0");
    dependency_named_like_a_service: external("[dependencies.telephony]", "[dependencies.api]").replace("[[dependencies.telephony.", "[[dependencies.api.");
    client_of_an_unknown_dependency: external("target = \"telephony\"", "target = \"telefony\"");
    failover_on_a_service_client: format!("{BASE}\n[clients.batch.failover]\nper_request = false\n");
    routing_on_a_dependency_client: format!("{}\n[clients.sms.routing]\nretry_region = \"next\"\n", external("", ""));
    failover_window_without_a_threshold: format!("{}\n[clients.sms.failover]\nwindow = \"30s\"\n", external("", ""));
    latency_multiplier_on_a_service: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"latency_multiplier\"\nservice = \"api\"\nvalue = 5\n", external("", ""));
    cpu_multiplier_on_a_provider: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"cpu_multiplier\"\nservice = \"telephony/primary\"\nvalue = 5\n", external("", ""));
    scale_to_on_a_dependency: format!("{}\n[[timeline]]\nat = \"06:10\"\naction = \"scale_to\"\nservice = \"telephony\"\ninstances = 5\n", external("", ""));
}

#[test]
fn the_cellular_base_is_valid() {
    let loaded = load_str(&cellular("", ""), FILE).unwrap_or_else(|error| panic!("{error}"));
    let pools: Vec<&str> = loaded.scenario.services.iter().map(|service| service.name.as_str()).collect();
    assert_eq!(pools, ["api@cell-1", "api@cell-2", "api@cell-3", "api@cell-4"]);
    let release = loaded.scenario.release.expect("a release");
    assert_eq!(release.waves.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 1]);
}

broken! {
    cells_beside_regions: format!("{}{REGIONS}", cellular("", ""));
    cells_flag_without_cells_table: edit("instances = 4", "instances = 4\ncells = true");
    cells_that_no_service_has: cellular("cells = true", "cells = false");
    cells_count_and_shares: cellular("count = 4", "count = 4\nshares = { a = \"50%\", b = \"50%\" }");
    cells_count_zero: cellular("count = 4", "count = 0");
    cell_shares_not_summing_to_100: cellular("count = 4", "shares = { eu = \"40%\", us = \"50%\" }");
    cell_share_above_100: cellular("count = 4", "shares = { eu = \"140%\", us = \"0%\" }");
    release_without_cells: format!("{BASE}\n[release]\nat = \"06:10\"\nchange = {{ cpu_multiplier = 2 }}\nwaves = [[\"cell-1\"]]\nbake = \"5m\"\n");
    release_wave_of_an_unknown_cell: cellular("[\"cell-4\"]]", "[\"cell-5\"]]");
    release_wave_naming_no_cell: cellular("[\"cell-4\"]]", "[]]");
    release_cell_in_two_waves: cellular("[\"cell-4\"]]", "[\"cell-2\"]]");
    release_without_waves: cellular("waves = [[\"cell-1\"], [\"cell-2\", \"cell-3\"], [\"cell-4\"]]", "waves = []");
    release_bake_missing: cellular("bake = \"10m\"\n", "");
    release_bake_zero: cellular("bake = \"10m\"", "bake = \"0s\"");
    release_changing_nothing: cellular("change = { cpu_multiplier = 1.4 }", "change = {}");
    release_changing_latency: cellular("change = { cpu_multiplier = 1.4 }", "change = { latency = \"100ms\" }");
    release_multiplier_out_of_range: cellular("cpu_multiplier = 1.4", "cpu_multiplier = -1");
    release_of_an_unknown_service: cellular("[release]\n", "[release]\nservices = [\"db\"]\n");
    release_gate_checking_nothing: cellular("gate = { success_rate_below = \"99%\" }", "gate = {}");
    release_gate_rate_zero: cellular("success_rate_below = \"99%\"", "success_rate_below = \"0%\"");
    release_rollback_without_gate: cellular("gate = { success_rate_below = \"99%\" }\n", "");
    release_after_the_end: cellular("at = \"06:10\"", "at = \"08:00\"");
    release_unknown_key: cellular("rollback = true", "rollback = true\nwave_sizes = [1, 3]");
}

broken! {
    date_without_a_start: edit("start = \"06:00\"\n", "date = \"2026-02-23\"\n");
    date_that_does_not_exist: edit("start = \"06:00\"", "start = \"06:00\"\ndate = \"2026-02-30\"");
    date_in_another_format: edit("start = \"06:00\"", "start = \"06:00\"\ndate = \"23/02/2026\"");
    timezone_misspelt: edit("start = \"06:00\"", "start = \"06:00\"\ndate = \"2026-02-23\"\ntimezone = \"America/NewYork\"");
    timezone_without_a_date: edit("start = \"06:00\"", "start = \"06:00\"\ntimezone = \"Europe/Paris\"");
}
