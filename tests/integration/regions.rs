//! Regions, routing and isolation end to end: a region loss with failover, isolation by a
//! failover cap, resilient routing of retries, failover on an observed error rate.

use stormsim::simulate;
use stormsim::stats::Series;
use stormsim::stats::summary::Summary;

/// Two regions, `api` in both: per region 2 instances x 4 cores at 10 ms, 800/s at 100%
/// CPU; users offer `rate` (half homed in each region) through `app`, whose routing table
/// is `routing`.
fn scenario(rate: &str, app: &str, routing: &str, extra: &str) -> stormsim::model::Scenario {
    let text = format!(
        r#"
[simulation]
duration = "8m"
interval = "1m"

[classes.all]

[regions.eastus]
zones = ["eastus-1", "eastus-2"]

[regions.westus]
zones = ["westus-1", "westus-2"]

[sources.users]
client = "app"
rate = "{rate}"
regions = {{ eastus = "50%", westus = "50%" }}

[clients.app]
target = "api"
timeout = "1s"
{app}

[clients.app.routing]
detection_delay = "20s"
{routing}

[services.api]
instances = 2
cores = 4
queue = {{ capacity = 200 }}
cpu = "10ms"
boot_delay = "1m"
regions = ["eastus", "westus"]
{extra}
"#
    );
    stormsim::scenario::load_str(&text, "regions.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

const EAST: usize = 0;
const WEST: usize = 1;

/// The region loss used by the failover and isolation tests: eastus at 2m.
const EAST_LOST: &str = "\n[[timeline]]\nat = \"2m\"\naction = \"region_loss\"\nregion = \"eastus\"\n";

fn success_rate(series: &Series, minute: usize, region: usize) -> f64 {
    series.rows[minute].regions[region].requests.success_rate().unwrap_or(0.0)
}

fn region<'a>(summary: &'a Summary, name: &str) -> &'a stormsim::stats::summary::RegionSummary {
    &summary.regions[name]
}

#[test]
fn a_region_loss_with_failover_moves_the_load_to_the_survivor() {
    let output = simulate(&scenario("600/s", "", "", EAST_LOST), 1);
    let series = &output.series;
    let (before, after) = (&series.rows[1], &series.rows[4]);
    // Before: each pool takes its own region's 300/s, at 37.5% CPU.
    assert!((before.services[WEST].cpu_utilisation - 0.375).abs() < 0.04, "{before:?}");
    assert_eq!(before.regions[WEST].failover_attempts, 0);
    // After detection: eastus's users are served by westus, which takes both regions' load.
    assert_eq!(after.services[EAST].instances_ready, 0, "the region is gone");
    assert!(after.services[WEST].arrived as f64 > 1.9 * before.services[WEST].arrived as f64);
    assert!((after.regions[WEST].pools.cpu_utilisation - 0.75).abs() < 0.05, "{:?}", after.regions[WEST]);
    assert!(after.regions[WEST].failover_attempts > 15_000, "{:?}", after.regions[WEST]);
    assert!(success_rate(series, 4, EAST) > 0.999, "failed over: eastus's users still served");
    // Only the detection delay's worth of eastus's requests failed, for want of capacity.
    let east = region(&output.summary, "eastus");
    let lost = east.requests.failed_by_reason.no_capacity;
    assert!(lost > 300 * 15 && lost < 300 * 25, "{lost} lost in the 20 s before the health check saw it");
    assert_eq!(east.group.pools, ["api@eastus"]);
}

#[test]
fn a_failover_cap_keeps_the_survivor_healthy_while_the_lost_regions_requests_fail() {
    let capped = scenario("800/s", "", "failover_cap = \"25%\"", EAST_LOST);
    let uncapped = scenario("800/s", "", "", EAST_LOST);
    let (capped, uncapped) = (simulate(&capped, 1), simulate(&uncapped, 1));
    // Without isolation the survivor takes both regions' load at its full capacity: its
    // own users suffer. With a 25% cap its own users are served.
    let west_uncapped = region(&uncapped.summary, "westus");
    let west_capped = region(&capped.summary, "westus");
    assert!(west_uncapped.group.cpu_utilisation > west_capped.group.cpu_utilisation + 0.1);
    for minute in 4..7 {
        assert!(success_rate(&capped.series, minute, WEST) > 0.999, "minute {minute}");
        assert!(capped.series.rows[minute].services[WEST].cpu_utilisation < 0.85);
    }
    // The lost region's requests over the cap fail with their own reason.
    let east = region(&capped.summary, "eastus");
    let capped_failures = east.requests.failed_by_reason.failover_capped.expect("a router caps failover");
    assert!(capped_failures > 10_000, "{capped_failures}");
    assert!(west_capped.failover_refused >= capped_failures);
    assert!(success_rate(&capped.series, 4, EAST) < 0.9);
    assert_eq!(capped.summary.requests.failed_by_reason.failover_capped, Some(capped_failures));
    assert_eq!(uncapped.summary.requests.failed_by_reason.failover_capped, None, "no cap, no figure");
}

/// eastus's pool gets 4x dearer at 1m: it collapses, timeouts trigger retries.
const EAST_OVERLOAD: &str =
    "\n[[timeline]]\nat = \"1m\"\naction = \"cpu_multiplier\"\nservice = \"api@eastus\"\nvalue = 4\n";

const RETRIES: &str = "[clients.app.retry]\nmax_attempts = 4\nbackoff = { base = \"50ms\", cap = \"1s\" }";

#[test]
fn resilient_routing_carries_a_retry_storm_into_the_second_region() {
    let resilient = scenario("1000/s", RETRIES, "retry_region = \"next\"", EAST_OVERLOAD);
    let isolated =
        scenario("1000/s", RETRIES, "cross_region_retries = false\nretry_region = \"next\"", EAST_OVERLOAD);
    let (resilient, isolated) = (simulate(&resilient, 1), simulate(&isolated, 1));
    let west = |output: &stormsim::RunOutput, minute: usize| output.series.rows[minute].regions[WEST].clone();
    // Without isolation eastus's retries land in westus, which saturates and fails its own
    // users too; with cross-region retries forbidden westus never sees them.
    assert!(west(&resilient, 5).failover_attempts > 10_000, "{:?}", west(&resilient, 5));
    assert_eq!(west(&isolated, 5).failover_attempts, 0);
    assert!(west(&resilient, 5).pools.cpu_utilisation > 0.95);
    assert!(west(&isolated, 5).pools.cpu_utilisation < 0.75);
    assert!(success_rate(&resilient.series, 5, WEST) < 0.9, "the storm reached westus's users");
    assert!(success_rate(&isolated.series, 5, WEST) > 0.999);
}

#[test]
fn an_observed_error_rate_fails_over_and_fails_back() {
    let routing = "health_check = false\nerror_rate_above = \"50%\"\nwindow = \"10s\"\nmin_samples = 20\nfail_back_after = \"30s\"";
    let errors = "\n[[timeline]]\nat = \"1m\"\naction = \"error_rate\"\nservice = \"api@eastus\"\nerrors = \"100%\"\n\n[[timeline]]\nat = \"4m\"\naction = \"error_rate\"\nservice = \"api@eastus\"\nerrors = \"0%\"\n";
    let output = simulate(&scenario("400/s", "", routing, errors), 1);
    let series = &output.series;
    // Ejected within a second of the errors; while ejected eastus's users go to westus;
    // every 30 s the router tries eastus again and ejects it again, until it recovers.
    assert!(success_rate(series, 2, EAST) > 0.95, "{:?}", series.rows[2].regions[EAST]);
    assert!(series.rows[2].regions[WEST].failover_attempts > 8_000);
    assert!(output.summary.timeline.iter().any(|marker| marker.label == "app: region eastus ejected"));
    assert_eq!(series.rows[6].regions[WEST].failover_attempts, 0, "failed back once healthy");
    assert!(success_rate(series, 6, EAST) > 0.999);
}
