//! The router on a client hop whose target is deployed in regions: which region each
//! attempt goes to, the failover cap, the cross-region latency and what the observed
//! detector learns from each outcome. `model::region` holds the router's data and the
//! detectors; this is where they meet the request path.

use super::World;
use crate::engine::{Sim, SimDuration, SimTime};
use crate::model::event::Event;
use crate::model::ids::{AttemptId, ClassId, ClientId, RegionId, RequestId, ServiceId};
use crate::model::limiter::Permit;
use crate::model::region::{RetryRegion, RouterSpec};
use crate::model::request::{Attempt, IN_TRANSIT, NO_ROUTE};
use crate::outcome::FailureReason;
use crate::stats::MarkerKind;

/// Where an attempt goes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Route {
    /// The pool; `None`: the client's target (no router).
    pub service: Option<ServiceId>,
    /// The router's destination index, or `NO_ROUTE`.
    pub slot: u8,
    /// Out of its request's home region: it counts against the destination's cap.
    pub foreign: bool,
    /// Added before it reaches the pool (the round trip's network time).
    pub crossing_delay: SimDuration,
}

impl Route {
    pub const DIRECT: Route =
        Route { service: None, slot: NO_ROUTE, foreign: false, crossing_delay: SimDuration::ZERO };
}

impl World<'_> {
    /// Picks the destination of an attempt. A first attempt (and, with `retry_region =
    /// "same"`, a retry) goes home unless the detectors say home is down, then to the next
    /// region in order they do not; with `"next"` a retry goes to the next such region
    /// after its previous attempt's; with `cross_region_retries = false` a retry stays where
    /// its previous attempt went. An attempt out of its home region over the destination's
    /// failover cap is refused.
    pub(super) fn route(
        &mut self,
        now: SimTime,
        client: ClientId,
        router: &RouterSpec,
        home: Option<RegionId>,
        first: bool,
        last_slot: u8,
    ) -> Result<Route, FailureReason> {
        let n = router.destinations.len();
        let home_slot = home
            .and_then(|home| {
                router.destinations.iter().position(|destination| destination.region == Some(home))
            })
            .unwrap_or(0);
        let retried_from = (!first && last_slot != NO_ROUTE).then_some(last_slot as usize);
        let slot = match retried_from {
            Some(last) if !router.cross_region_retries => last,
            Some(last) if router.retry_region == RetryRegion::Next => (1..=n)
                .map(|k| (last + k) % n)
                .find(|&slot| self.usable(now, client, router, slot))
                .unwrap_or((last + 1) % n),
            _ => (0..n)
                .map(|k| (home_slot + k) % n)
                .find(|&slot| self.usable(now, client, router, slot))
                .unwrap_or(home_slot),
        };
        let destination = router.destinations[slot];
        // A provider is in no region: only a regional pool can be foreign.
        let foreign = home.is_some() && destination.region.is_some_and(|region| Some(region) != home);
        if foreign && let Some(cap) = router.failover_cap {
            let pool = &self.services[destination.service.idx()];
            let workers = self.scenario.services[destination.service.idx()].workers as f64;
            if pool.foreign_in_flight as f64 >= cap * pool.ready.len() as f64 * workers {
                self.recorder.region_capped(destination.region.expect("foreign: in a region"));
                return Err(FailureReason::FailoverCapped);
            }
        }
        if let Some(region) = destination.region {
            self.recorder.region_attempt(region, !first, foreign);
        }
        let crossing_delay =
            if foreign { SimDuration(router.cross_region_latency.0 * 2) } else { SimDuration::ZERO };
        Ok(Route { service: Some(destination.service), slot: slot as u8, foreign, crossing_delay })
    }

    /// Whether the router's detectors let traffic go to destination `slot` now.
    #[inline]
    fn usable(&self, now: SimTime, client: ClientId, router: &RouterSpec, slot: usize) -> bool {
        let destination = router.destinations[slot];
        let seen_down = router.health_check.is_some_and(|delay| {
            self.services[destination.service.idx()].health.unhealthy(now, delay, router.fail_back_after)
        });
        let ejected =
            self.clients[client.idx()].outliers.get(slot).is_some_and(|outliers| outliers.ejected(now));
        !seen_down && !ejected
    }

    /// Sends an attempt out of its home region: it is in flight (its timeout runs) but
    /// reaches its pool only after the round trip's network time, where it picks an
    /// instance (`on_attempt_arrives`). The whole round trip is paid on the way out: the
    /// client sees the same latency and the same timeouts, and an answer needs no event.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_across(
        &mut self,
        sim: &mut Sim<Event>,
        request_id: RequestId,
        class: ClassId,
        client_id: ClientId,
        service: ServiceId,
        route: Route,
        permit: Option<Permit>,
        limiter_epoch: u32,
    ) {
        let now = sim.now();
        let client = &self.scenario.clients[client_id.idx()];
        let request = self.requests.get(request_id).expect("sending it");
        let (deadline, top_level) = (request.deadline, request.parent.is_none());
        let timeout_at = client.timeout.map(|timeout| now.after(timeout));
        let attempt_deadline = super::earliest(timeout_at, deadline);
        if route.foreign {
            self.services[service.idx()].foreign_in_flight += 1;
        }
        let attempt_id = self.attempts.insert(Attempt {
            request: request_id,
            client: client_id,
            class,
            service,
            instance: IN_TRANSIT,
            arrived: now,
            got_worker: now,
            cpu: SimDuration::ZERO,
            abandoned: false,
            permit,
            limiter_epoch,
            deadline: attempt_deadline,
            call_cursor: 0,
            calls_pending: 0,
            top_level,
            hedged: client.hedge.is_some(),
            rejecting: false,
            sent: now,
            slot: route.slot,
            foreign: route.foreign,
        });
        self.check_in_flight(now);
        if let Some(at) = attempt_deadline {
            sim.schedule(at, Event::AttemptTimeout { attempt: attempt_id });
        }
        sim.schedule_in(route.crossing_delay, Event::AttemptArrives { attempt: attempt_id });
    }

    /// An attempt sent across reaches its pool: an instance, or `no_capacity` if none is
    /// ready. One its client has given up on still arrives (the network does not know).
    pub(super) fn on_attempt_arrives(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) {
        let now = sim.now();
        let Some(attempt) = self.attempts.get(attempt_id) else { return };
        let (service_id, class) = (attempt.service, attempt.class);
        let service = &mut self.services[service_id.idx()];
        let Some(instance) = service.pick_instance() else {
            let attempt = self.attempts.remove(attempt_id).expect("looked up above");
            self.attempt_left(&attempt);
            if !attempt.abandoned && !self.cancel_if_orphan(&attempt) {
                let reason = FailureReason::NoCapacity;
                self.release(now, attempt.client, attempt.limiter_epoch, attempt.permit, Err(reason));
                self.observe(now, attempt.client, attempt.slot, true, None);
                self.attempt_failed(sim, attempt.request, reason);
            }
            return;
        };
        let spec = &self.scenario.services[service_id.idx()];
        let mut cpu = service.cpu_cost(spec, class, instance, now);
        let setup = service.connection_cost(spec, instance);
        if setup.0 > 0 {
            cpu = SimDuration(cpu.0 + setup.0);
            self.recorder.service(service_id).connection_setup(setup);
        }
        let attempt = self.attempts.get_mut(attempt_id).expect("looked up above");
        attempt.instance = instance;
        attempt.cpu = cpu;
        attempt.arrived = now;
        attempt.got_worker = now;
        self.admit(sim, attempt_id, class, service_id, instance);
    }

    /// An attempt leaves its pool (answered, refused, dropped or lost): it no longer counts
    /// against the failover cap.
    #[inline]
    pub(super) fn attempt_left(&mut self, attempt: &Attempt) {
        if attempt.foreign {
            self.services[attempt.service.idx()].foreign_in_flight -= 1;
        }
    }

    /// The router's observed detector learns an attempt's outcome at its destination; an
    /// ejection is marked on the charts.
    #[inline]
    pub(super) fn observe(
        &mut self,
        now: SimTime,
        client: ClientId,
        slot: u8,
        failed: bool,
        latency: Option<SimDuration>,
    ) {
        if slot == NO_ROUTE {
            return;
        }
        let Some(router) = &self.scenario.clients[client.idx()].router else { return };
        let Some(detector) = &router.observed else { return };
        let outliers = &mut self.clients[client.idx()].outliers[slot as usize];
        if outliers.observe(detector, router.fail_back_after, now, failed, latency) {
            let destination = router.destinations[slot as usize];
            let what = match destination.region {
                Some(region) => format!("region {}", self.scenario.regions[region.idx()].name),
                None => format!("provider {}", self.scenario.services[destination.service.idx()].name),
            };
            let label = format!("{}: {what} ejected", self.scenario.clients[client.idx()].name);
            self.recorder.mark(now, MarkerKind::Alert, label);
        }
    }
}
