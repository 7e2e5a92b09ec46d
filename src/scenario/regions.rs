//! Resolves `[regions]`, where services are deployed, the sources' home regions and the
//! clients' routers, and deploys a service with regions as one pool per region.
//!
//! A pool is a plain `Service` named `service@region` over its region's zones, so
//! everything the model does to a pool works per region unchanged. Same rules as
//! `resolve`: every refusal names the key, points at what the user wrote and says what
//! would be valid.

use std::ops::Range;

use super::spanned::Spanned;

use super::checks::{check_count, check_delay, lookup, present};
use super::error::Problem;
use super::file::{Named, RetryRegionFile, RoutingFile, ScenarioFile, ServiceFile, SourceFile};
use super::units::{Duration, Percent};
use crate::engine::SimDuration;
use crate::ids::{RegionId, ServiceId};
use crate::model::{Client, Destination, ObservedDetector, Region, RetryRegion, RouterSpec, Service};
use crate::refusal::quoted_list;

/// Most regions, and most zones of one region: 64.
const MAX_REGIONS: usize = 64;
/// Most samples the observed detector may wait for: 1,000,000.
const MAX_SAMPLES: i64 = 1_000_000;
/// Home-region shares must sum to 100% within this (as fractions).
const SHARE_TOLERANCE: f64 = 1e-9;

/// Each region with at least one zone; zone names distinct across regions.
pub(super) fn resolve_regions(regions: &Named<super::file::RegionFile>) -> Result<Vec<Region>, Problem> {
    if regions.len() > MAX_REGIONS {
        let (name, _) = regions.iter().nth(MAX_REGIONS).expect("more than MAX_REGIONS");
        return Problem::new(name.span(), "regions", format!("{} regions", regions.len()))
            .expected(format!("at most {MAX_REGIONS} regions"))
            .into_err();
    }
    let mut resolved: Vec<Region> = Vec::with_capacity(regions.len());
    for (name, region) in regions {
        let key = format!("regions.{}.zones", name.get_ref());
        let zones = present(&region.zones, &key)?;
        let list = zones.get_ref();
        let problem = |message: String| {
            Problem::new(zones.span(), key.as_str(), message).expected(format!(
                "a list of 1 to {MAX_REGIONS} distinct zone names, unique across regions, such as [\"{0}-1\", \"{0}-2\"]",
                name.get_ref()
            ))
        };
        if list.is_empty() || list.len() > MAX_REGIONS {
            return problem(format!("{} zones", list.len())).into_err();
        }
        for (index, zone) in list.iter().enumerate() {
            if zone.is_empty() || list[..index].contains(zone) {
                return problem(format!("zone \"{zone}\" is empty or repeated")).into_err();
            }
            if let Some(other) = resolved.iter().find(|other| other.zones.contains(zone)) {
                return problem(format!("zone \"{zone}\" is also a zone of region \"{}\"", other.name))
                    .into_err();
            }
        }
        resolved.push(Region { name: name.get_ref().clone(), zones: list.clone() });
    }
    Ok(resolved)
}

/// The regions a service is deployed in, in priority order; `None` for a service in one
/// place. A service with regions takes its zones from them.
pub(super) fn service_regions(
    name: &str,
    service: &ServiceFile,
    region_names: &[&str],
) -> Result<Option<Vec<RegionId>>, Problem> {
    let Some(regions) = &service.regions else { return Ok(None) };
    let key = format!("services.{name}.regions");
    if let Some(zones) = &service.zones {
        return Problem::new(
            zones.span(),
            format!("services.{name}.zones"),
            "a service deployed in regions takes its zones from them",
        )
        .expected(format!("zones under [regions.NAME], or no regions = [...] in [services.{name}]"))
        .into_err();
    }
    let list = regions.get_ref();
    if list.is_empty() {
        return Problem::new(regions.span(), key, "regions is empty")
            .expected(region_choices("at least one of", region_names))
            .into_err();
    }
    let mut ids = Vec::with_capacity(list.len());
    for (index, region) in list.iter().enumerate() {
        if list[..index].contains(region) {
            return Problem::new(regions.span(), key, format!("region \"{region}\" is repeated"))
                .expected("each region once, in the routers' priority order")
                .into_err();
        }
        let reference = Spanned::new(regions.span(), region.clone());
        ids.push(RegionId::from_idx(lookup(region_names, &reference, &key, "region")?));
    }
    Ok(Some(ids))
}

fn region_choices(lead: &str, region_names: &[&str]) -> String {
    match region_names {
        [] => "a [regions.NAME] table for each region".to_string(),
        _ => format!("{lead} {}", quoted_list(region_names)),
    }
}

/// A source's home regions: known names, shares from 0% to 100% summing to 100%.
pub(super) fn resolve_home(
    name: &str,
    source: &SourceFile,
    region_names: &[&str],
) -> Result<Vec<(RegionId, f64)>, Problem> {
    let Some(split) = &source.regions else { return Ok(vec![]) };
    let key = format!("sources.{name}.regions");
    let mut home = Vec::with_capacity(split.get_ref().len());
    let mut last_span: Range<usize> = split.span();
    for (region, share) in split.get_ref() {
        let region_key = format!("{key}.{}", region.get_ref());
        let id = lookup(region_names, region, &key, "region")?;
        let fraction = share.get_ref().fraction();
        if fraction > 1.0 {
            return Problem::new(
                share.span(),
                region_key,
                format!("share {} is above 100%", share.get_ref()),
            )
            .expected("a share from 0% to 100%")
            .into_err();
        }
        if !share.span().is_empty() {
            last_span = share.span();
        }
        home.push((RegionId::from_idx(id), fraction));
    }
    let sum: f64 = home.iter().map(|&(_, share)| share).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        let parts: Vec<String> = home
            .iter()
            .map(|&(region, share)| format!("{} {}", region_names[region.idx()], percent_text(share)))
            .collect();
        let message = format!("home-region shares sum to {} ({})", percent_text(sum), parts.join(", "));
        return Problem::new(last_span, key, message).expected("shares summing to 100%").into_err();
    }
    Ok(home)
}

/// A fraction as a percentage for a message, rounded to 9 decimals.
fn percent_text(fraction: f64) -> String {
    format!("{}%", (fraction * 100.0 * 1e9).round() / 1e9)
}

/// A client's router, its destinations left for `deploy` to fill; `None` when its target
/// has no regions (and then it must have no `routing` table).
pub(super) fn resolve_routing(
    name: &str,
    routing: Option<&Spanned<RoutingFile>>,
    target: &str,
    target_regional: bool,
) -> Result<Option<RouterSpec>, Problem> {
    let key = |field: &str| format!("clients.{name}.routing.{field}");
    let Some(routing) = routing else { return Ok(None) };
    if !target_regional {
        return Problem::new(
            routing.span(),
            format!("clients.{name}.routing"),
            format!("service \"{target}\" is not deployed in regions, so there is nothing to route between"),
        )
        .expected(format!("regions = [...] in [services.{target}], or no routing table here"))
        .into_err();
    }
    let file = routing.get_ref();
    let health_check = *present(&file.health_check, &key("health_check"))?;
    let delay =
        check_delay(present(&file.detection_delay, &key("detection_delay"))?, &key("detection_delay"))?;
    let observed = observed_detector(
        &file.error_rate_above,
        &file.latency_above,
        &file.window,
        &file.min_samples,
        &key,
    )?;
    let fail_back_after =
        check_delay(present(&file.fail_back_after, &key("fail_back_after"))?, &key("fail_back_after"))?;
    let retry_region = match present(&file.retry_region, &key("retry_region"))? {
        RetryRegionFile::Same => RetryRegion::Same,
        RetryRegionFile::Next => RetryRegion::Next,
    };
    let failover_cap = match &file.failover_cap {
        Some(cap) => {
            let fraction = cap.get_ref().fraction();
            if fraction > 1.0 {
                return Problem::new(
                    cap.span(),
                    key("failover_cap"),
                    format!("{} is above 100%", cap.get_ref()),
                )
                .expected("a share of the region's workers from 0% to 100%")
                .into_err();
            }
            Some(fraction)
        }
        None => None,
    };
    let latency = present(&file.cross_region_latency, &key("cross_region_latency"))?;
    Ok(Some(RouterSpec {
        destinations: vec![],
        health_check: health_check.then_some(delay),
        observed,
        fail_back_after,
        retry_region,
        cross_region_retries: *present(&file.cross_region_retries, &key("cross_region_retries"))?,
        failover_cap,
        cross_region_latency: check_delay(latency, &key("cross_region_latency"))?,
    }))
}

/// The observed detector (a router's outlier detection, a dependency client's breaker):
/// on when a threshold is stated, and then its window and least samples apply; refused
/// when they are written without a threshold.
pub(super) fn observed_detector(
    error_rate_above: &Option<Spanned<Percent>>,
    latency_above: &Option<Spanned<Duration>>,
    window: &Option<Spanned<Duration>>,
    min_samples: &Option<Spanned<super::file::Count>>,
    key: &dyn Fn(&str) -> String,
) -> Result<Option<ObservedDetector>, Problem> {
    let error_rate_above = match error_rate_above {
        Some(rate) => Some(share_above_zero(rate, &key("error_rate_above"))?),
        None => None,
    };
    let latency_above = match latency_above {
        Some(latency) => Some(positive_delay(latency, &key("latency_above"))?),
        None => None,
    };
    if error_rate_above.is_some() || latency_above.is_some() {
        let window = positive_delay(present(window, &key("window"))?, &key("window"))?;
        let min_samples = present(min_samples, &key("min_samples"))?;
        let min_samples = check_count(min_samples, &key("min_samples"), "min_samples", 1..=MAX_SAMPLES)?;
        return Ok(Some(ObservedDetector {
            window,
            min_samples: min_samples as u32,
            error_rate_above,
            latency_above,
        }));
    }
    let unused = [
        ("window", window.as_ref().map(Spanned::span)),
        ("min_samples", min_samples.as_ref().map(Spanned::span)),
    ];
    if let Some((field, Some(span))) =
        unused.into_iter().find(|(_, span)| span.as_ref().is_some_and(|s| !s.is_empty()))
    {
        return Problem::new(
            span,
            key(field),
            format!("{field} is a setting of the observed detector, which is off"),
        )
        .expected(
            "error_rate_above = \"50%\" or latency_above = \"1s\" beside it, or no window and min_samples",
        )
        .into_err();
    }
    Ok(None)
}

fn share_above_zero(value: &Spanned<Percent>, key: &str) -> Result<f64, Problem> {
    let fraction = value.get_ref().fraction();
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Problem::new(value.span(), key, format!("{} is outside (0%, 100%]", value.get_ref()))
            .expected("a share above 0% and at most 100%")
            .into_err();
    }
    Ok(fraction)
}

fn positive_delay(value: &Spanned<Duration>, key: &str) -> Result<SimDuration, Problem> {
    if value.get_ref().nanos() == 0 {
        let field = key.rsplit('.').next().unwrap_or(key);
        return Problem::new(value.span(), key, format!("{field} is zero"))
            .expected("a duration above zero, at most \"1d\"")
            .into_err();
    }
    check_delay(value, key)
}

/// The pools the model runs: each service in one place as it is, each service with
/// regions as one pool per region, `name@region`, over that region's zones. Pools keep
/// their service's order, a service's pools in its regions' order.
pub(super) struct Deployment {
    pub pools: Vec<Service>,
    /// Per service (file order), its pools.
    pub pools_of: Vec<Vec<ServiceId>>,
}

pub(super) fn deploy(
    services: Vec<Service>,
    regions_of: &[Option<Vec<RegionId>>],
    regions: &[Region],
) -> Deployment {
    let mut pools = Vec::with_capacity(services.len());
    let mut pools_of = Vec::with_capacity(services.len());
    for (service, regions_of) in services.into_iter().zip(regions_of) {
        let Some(service_regions) = regions_of else {
            pools_of.push(vec![ServiceId::from_idx(pools.len())]);
            pools.push(service);
            continue;
        };
        let mut ids = Vec::with_capacity(service_regions.len());
        for &region in service_regions {
            let spec = &regions[region.idx()];
            ids.push(ServiceId::from_idx(pools.len()));
            pools.push(Service {
                name: pool_name(&service.name, &spec.name),
                zones: spec.zones.clone(),
                region: Some(region),
                ..service.clone()
            });
        }
        pools_of.push(ids);
    }
    Deployment { pools, pools_of }
}

/// `backend@eastus`: a regional pool's name in every output.
pub(super) fn pool_name(service: &str, region: &str) -> String {
    format!("{service}@{region}")
}

impl Deployment {
    /// Points each client at its target's pools: a router's destinations in the
    /// target's regions' (or providers') order, a plain client at the one pool.
    pub fn link(&self, clients: &mut [Client]) {
        for client in clients {
            let pools = &self.pools_of[client.target.idx()];
            client.target = pools[0];
            if let Some(router) = &mut client.router {
                router.destinations = pools
                    .iter()
                    .map(|&service| Destination { region: self.pools[service.idx()].region, service })
                    .collect();
            }
        }
    }
}

/// Whether `target` names a service with regions (for `defaults::fill`, before resolving).
pub(super) fn is_regional(file: &ScenarioFile, target: &str) -> bool {
    file.services.iter().any(|(name, service)| name.get_ref() == target && service.regions.is_some())
}
