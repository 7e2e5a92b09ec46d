//! Where closed-loop users meet the request path: a user sends a request, waits for its
//! outcome (retries and tries by hand included), thinks, and sends the next.
//!
//! A user's request carries its source (`Request::user`); when the request settles for
//! good, `user_settled` puts the user to think, or lets it leave when the profile has
//! fallen. Think times come from the source's own stream (`source/NAME/think`), so a
//! closed-loop source shifts no other component's draws.

use super::{Inflow, World};
use crate::engine::{Sim, StreamRng};
use crate::model::event::Event;
use crate::model::ids::SourceId;
use crate::model::spec::{SourceKind, UsersProfile};
use crate::model::users::Population;

/// A closed-loop source's runtime state: its users and their think-time draws.
pub(super) struct ClosedLoop {
    population: Population,
    think_rng: StreamRng,
}

impl ClosedLoop {
    pub(super) fn new(users: &UsersProfile, think_rng: StreamRng) -> ClosedLoop {
        ClosedLoop { population: Population::new(users), think_rng }
    }
}

impl World<'_> {
    /// The users profile is due to change (or the run starts): newcomers join, each
    /// sending its first request after a think time, so a crowd that joins at once does
    /// not arrive in the same instant; the next change is scheduled.
    pub(super) fn on_users_change(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let now = sim.now();
        let Inflow::Closed(closed) = &mut self.sources[source.idx()].inflow else { return };
        let joining = closed.population.update(now);
        for _ in 0..joining {
            self.think(sim, source);
        }
        let Inflow::Closed(closed) = &self.sources[source.idx()].inflow else { return };
        if let Some(at) = closed.population.next_change(now) {
            sim.schedule(at, Event::UsersChange { source });
        }
    }

    /// A user has finished thinking: it sends its next request, or leaves if the profile
    /// has fallen below the users present.
    pub(super) fn on_user_ready(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let Inflow::Closed(closed) = &mut self.sources[source.idx()].inflow else { return };
        if !closed.population.stays() {
            return;
        }
        let origin = self.draw_origin(source);
        self.start_request(sim, origin, Some(source));
    }

    /// A user's request has settled (succeeded, or failed after every retry): the user
    /// thinks, or leaves if the profile has fallen below the users present.
    pub(super) fn user_settled(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let Inflow::Closed(closed) = &mut self.sources[source.idx()].inflow else { return };
        if closed.population.stays() {
            self.think(sim, source);
        }
    }

    /// Schedules a user's wake-up after a think time drawn from the source's stream.
    fn think(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let SourceKind::ClosedLoop { think_time, .. } = &self.scenario.sources[source.idx()].kind else {
            return;
        };
        let Inflow::Closed(closed) = &mut self.sources[source.idx()].inflow else { return };
        let pause = think_time.sample(&mut closed.think_rng);
        sim.schedule_in(pause, Event::UserReady { source });
    }
}
