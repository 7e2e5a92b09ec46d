//! Resolves `[dependencies]`, systems outside our pools, and the failover of the clients
//! that call them.
//!
//! A provider is resolved into a pool of its own, `dependency/provider`: one instance whose
//! "CPU" is the provider's answer time, with as many workers and cores as calls it takes at
//! once (no limit unless `concurrency` says so) and no queue. So the timeline's error rate
//! and multiplier, every pool figure and the router's detectors work on a provider
//! unchanged, and a dependency's providers in priority order are a router's destinations,
//! exactly as a service's regions are.

use super::spanned::Spanned;

use super::checks::{check_count, check_delay, present};
use super::error::Problem;
use super::file::{DependencyFile, FailoverFile, Named};
use super::regions::{Deployment, observed_detector};
use super::resolve::resolve_cpu;
use crate::engine::SimDuration;
use crate::ids::ServiceId;
use crate::model::{DependencySpec, RetryRegion, RouterSpec, Service};
use crate::refusal::quoted_list;

/// Most providers of one dependency: 16.
const MAX_PROVIDERS: usize = 16;
/// Most calls a provider may take at once when it states a limit: 1,000,000.
const MAX_CONCURRENCY: i64 = 1_000_000;
/// A provider without a `concurrency` limit: more calls than any run holds at once.
const UNLIMITED: u32 = u32::MAX;

/// A dependency: its name and its providers' pools, in priority order.
pub(super) struct Dependency {
    pub name: String,
    pub providers: Vec<Service>,
}

/// Every dependency, its name distinct from every service's (a client's `target` names
/// either), with 1 to 16 providers of distinct names.
pub(super) fn resolve_dependencies(
    dependencies: &Named<DependencyFile>,
    service_names: &[&str],
    classes: usize,
) -> Result<Vec<Dependency>, Problem> {
    let mut resolved = Vec::with_capacity(dependencies.len());
    for (name, dependency) in dependencies {
        let key = format!("dependencies.{}", name.get_ref());
        if service_names.contains(&name.get_ref().as_str()) {
            return Problem::new(name.span(), key, format!("\"{}\" is also a service", name.get_ref()))
                .expected(
                    "a dependency name no [services.NAME] uses: a client's target names one or the other",
                )
                .into_err();
        }
        let list = &dependency.providers;
        if list.is_empty() || list.len() > MAX_PROVIDERS {
            return Problem::new(name.span(), format!("{key}.providers"), format!("{} providers", list.len()))
                .expected(format!(
                    "1 to {MAX_PROVIDERS} [[{key}.providers]] tables in priority order, each with a name and a latency"
                ))
                .into_err();
        }
        let mut providers = Vec::with_capacity(list.len());
        for (index, provider) in list.iter().enumerate() {
            let provider_key = |field: &str| format!("{key}.providers[{index}].{field}");
            let provider_name = provider.name.get_ref();
            let earlier: Vec<&str> = list[..index].iter().map(|p| p.name.get_ref().as_str()).collect();
            let problem = if provider_name.is_empty() {
                Some("the provider name is empty".to_string())
            } else if provider_name.contains('/') {
                Some(format!(
                    "provider name \"{provider_name}\" has a '/', which separates it from its dependency"
                ))
            } else if earlier.contains(&provider_name.as_str()) {
                Some(format!("provider \"{provider_name}\" is listed twice: a failover would go back to it"))
            } else {
                None
            };
            if let Some(message) = problem {
                let expected = match earlier.as_slice() {
                    [] => "a name such as \"primary\"".to_string(),
                    _ => format!("a name other than {}, without '/'", quoted_list(&earlier)),
                };
                return Problem::new(provider.name.span(), provider_key("name"), message)
                    .expected(expected)
                    .into_err();
            }
            let latency = resolve_cpu(&provider.latency, &provider_key("latency"))?;
            let error_rate = present(&provider.error_rate, &provider_key("error_rate"))?;
            if error_rate.get_ref().fraction() > 1.0 {
                return Problem::new(
                    error_rate.span(),
                    provider_key("error_rate"),
                    format!("{} is above 100%", error_rate.get_ref()),
                )
                .expected("a percentage from 0% to 100%")
                .into_err();
            }
            let concurrency = match &provider.concurrency {
                Some(limit) => {
                    check_count(limit, &provider_key("concurrency"), "concurrency", 1..=MAX_CONCURRENCY)?
                        as u32
                }
                None => UNLIMITED,
            };
            let pool = format!("{}/{provider_name}", name.get_ref());
            providers.push(Service {
                name: pool.clone(),
                queue_capacity: Some(0),
                cpu: vec![latency; classes],
                error_rate: error_rate.get_ref().fraction(),
                zones: vec![pool],
                external: true,
                ..Service::plain(1, concurrency, concurrency, latency)
            });
        }
        resolved.push(Dependency { name: name.get_ref().clone(), providers });
    }
    Ok(resolved)
}

/// A dependency client's router over the providers (filled in by the deployment): a retry
/// goes to the next provider with `per_request`, and the breaker is the router's observed
/// detector. Nothing crosses a region and nothing is capped.
pub(super) fn resolve_failover(name: &str, failover: &Spanned<FailoverFile>) -> Result<RouterSpec, Problem> {
    let key = |field: &str| format!("clients.{name}.failover.{field}");
    let file = failover.get_ref();
    let observed = observed_detector(
        &file.error_rate_above,
        &file.latency_above,
        &file.window,
        &file.min_samples,
        &key,
    )?;
    let shift_back = present(&file.shift_back_after, &key("shift_back_after"))?;
    let per_request = *present(&file.per_request, &key("per_request"))?;
    Ok(RouterSpec {
        destinations: vec![],
        health_check: None,
        observed,
        fail_back_after: check_delay(shift_back, &key("shift_back_after"))?,
        retry_region: if per_request { RetryRegion::Next } else { RetryRegion::Same },
        cross_region_retries: true,
        failover_cap: None,
        cross_region_latency: SimDuration::ZERO,
    })
}

/// Adds each dependency's providers to the pools, after the services', so a client whose
/// target is the dependency numbered `k` after the services finds them at `pools_of[k]`.
pub(super) fn deploy_dependencies(
    deployment: &mut Deployment,
    dependencies: Vec<Dependency>,
) -> Vec<DependencySpec> {
    dependencies
        .into_iter()
        .map(|dependency| {
            let first = deployment.pools.len();
            let providers: Vec<ServiceId> =
                (first..first + dependency.providers.len()).map(ServiceId::from_idx).collect();
            deployment.pools.extend(dependency.providers);
            deployment.pools_of.push(providers.clone());
            DependencySpec { name: dependency.name, providers }
        })
        .collect()
}
