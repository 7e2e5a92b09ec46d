//! Call chains: after its CPU burst an attempt may call downstream services, each call a
//! request of its own through a client hop (with that hop's timeout, retries and limiter).
//! The attempt keeps its worker, but no core, until its calls are answered; a call that
//! fails for good fails the attempt with `dependency_error`.

use super::World;
use crate::engine::Sim;
use crate::model::event::Event;
use crate::model::ids::{AttemptId, ClientId};
use crate::outcome::FailureReason;
use rand::RngExt;

impl World<'_> {
    /// Starts the attempt's downstream calls; false when it makes none (it answers now).
    pub(super) fn start_calls(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) -> bool {
        let attempt = *self.attempts.get(attempt_id).expect("a burning attempt is alive");
        let spec = &self.scenario.services[attempt.service.idx()];
        if spec.calls.is_empty() {
            return false;
        }
        if spec.parallel_calls {
            let mut launched = 0;
            while let Some(client) = self.next_call(attempt_id) {
                launched += 1;
                self.call(sim, attempt_id, client);
            }
            launched > 0
        } else {
            self.call_next(sim, attempt_id)
        }
    }

    /// Sequential calls: makes the next call that is due; false when none is left.
    fn call_next(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) -> bool {
        match self.next_call(attempt_id) {
            Some(client) => {
                self.call(sim, attempt_id, client);
                true
            }
            None => false,
        }
    }

    /// Walks the service's call list from the attempt's cursor to the next call this
    /// attempt makes (its class matches and its probability draw succeeds).
    fn next_call(&mut self, attempt_id: AttemptId) -> Option<ClientId> {
        let attempt = self.attempts.get_mut(attempt_id)?;
        let (service, class) = (attempt.service.idx(), attempt.class);
        let calls = &self.scenario.services[service].calls;
        let rng = &mut self.services[service].calls_rng;
        let mut end = 0u32;
        for call in calls {
            end += call.count;
            while attempt.call_cursor < end {
                attempt.call_cursor += 1;
                let applies = call.class.is_none_or(|c| c == class);
                if applies && (call.probability >= 1.0 || rng.random::<f64>() < call.probability) {
                    attempt.calls_pending += 1;
                    return Some(call.client);
                }
            }
        }
        None
    }

    /// Sends one downstream call: a request of the hop's client, on behalf of the attempt.
    fn call(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId, client: ClientId) {
        let attempt = self.attempts.get(attempt_id).expect("the calling attempt is alive");
        let deadline =
            if self.scenario.clients[client.idx()].propagate_deadline { attempt.deadline } else { None };
        let class = attempt.class;
        // A call starts in the calling pool's region, or where its caller's request is homed.
        let home = self.scenario.services[attempt.service.idx()]
            .region
            .or_else(|| self.requests.get(attempt.request).and_then(|request| request.home));
        // And it stays in the calling pool's cell, or its caller's request's.
        let cell = self.scenario.services[attempt.service.idx()]
            .cell
            .or_else(|| self.requests.get(attempt.request).and_then(|request| request.cell));
        self.new_request(sim, class, client, Some(attempt_id), deadline, home, cell, None);
    }

    /// A downstream call of `parent` finished for good.
    pub(super) fn call_answered(
        &mut self,
        sim: &mut Sim<Event>,
        parent: AttemptId,
        outcome: Result<(), FailureReason>,
    ) {
        // A stale key: the calling attempt already failed (another call of it did) or its
        // instance was lost.
        let Some(attempt) = self.attempts.get_mut(parent) else { return };
        attempt.calls_pending -= 1;
        let parallel = self.scenario.services[attempt.service.idx()].parallel_calls;
        match outcome {
            Err(_) => self.finish_attempt(sim, parent, Err(FailureReason::DependencyError)),
            Ok(()) if parallel => {
                if attempt.calls_pending == 0 {
                    self.finish_attempt(sim, parent, Ok(()));
                }
            }
            Ok(()) => {
                if !self.call_next(sim, parent) {
                    self.finish_attempt(sim, parent, Ok(()));
                }
            }
        }
    }
}
