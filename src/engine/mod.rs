//! The discrete-event engine: a clock and a future event list, nothing else.
//!
//! Invariant: the engine knows nothing about services, requests or retries. A model is
//! any type implementing [`Model`]; the engine pops the earliest event, advances the
//! clock to it and hands it to [`Model::handle`]. The public surface is SimPy-sized:
//! `schedule`, `peek`, `step`, `run_until`.

pub mod queue;
pub mod rng;
pub mod slab;
pub mod time;

pub use queue::EventQueue;
pub use rng::{RngStreams, StreamRng};
pub use slab::{Key, Slab};
pub use time::{NANOS_PER_SEC, SimDuration, SimTime};

/// A model driven by the engine: it owns its state and reacts to one event at a time.
pub trait Model {
    type Event: Copy;
    fn handle(&mut self, sim: &mut Sim<Self::Event>, event: Self::Event);

    /// Asked after every event: true stops the run where it is (a guard tripped).
    fn should_stop(&self, _sim: &Sim<Self::Event>) -> bool {
        false
    }
}

/// The clock and the pending events. Models schedule through it; only the engine pops.
pub struct Sim<E> {
    now: SimTime,
    queue: EventQueue<E>,
    popped: u64,
}

impl<E: Copy> Default for Sim<E> {
    fn default() -> Self {
        Sim { now: SimTime::ZERO, queue: EventQueue::default(), popped: 0 }
    }
}

impl<E: Copy> Sim<E> {
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. Scheduling in the past is a model bug.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        self.queue.push(at.max(self.now), event);
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now.after(delay), event);
    }

    /// Schedules `event` after `delay` on FIFO lane `lane`: for timers that one component
    /// always sets the same delay ahead (see `EventQueue::push_lane`).
    #[inline]
    pub fn schedule_in_lane(&mut self, lane: usize, delay: SimDuration, event: E) {
        self.queue.push_lane(lane, self.now.after(delay), event);
    }

    /// When the next event fires, if any.
    pub fn peek(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Pops and handles one event. Returns false when no events remain.
    #[inline]
    pub fn step<M: Model<Event = E>>(&mut self, model: &mut M) -> bool {
        match self.queue.pop() {
            Some((at, event)) => {
                self.handle(model, at, event);
                true
            }
            None => false,
        }
    }

    /// Handles every event up to and including `until`, then sets the clock to `until`.
    /// Returns false, leaving the clock at the last event, if the model asked to stop.
    pub fn run_until<M: Model<Event = E>>(&mut self, model: &mut M, until: SimTime) -> bool {
        while let Some((at, event)) = self.queue.pop_until(until) {
            self.handle(model, at, event);
            if model.should_stop(self) {
                return false;
            }
        }
        self.now = self.now.max(until);
        true
    }

    /// Advances the clock to the popped event and hands it to the model.
    #[inline]
    fn handle<M: Model<Event = E>>(&mut self, model: &mut M, at: SimTime, event: E) {
        self.now = at;
        self.popped += 1;
        model.handle(self, event);
    }

    /// Events handled so far.
    pub fn events_popped(&self) -> u64 {
        self.popped
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ping-pong model: each event schedules the next until a count is reached.
    struct Counter {
        seen: Vec<(u64, u32)>,
    }

    impl Model for Counter {
        type Event = u32;
        fn handle(&mut self, sim: &mut Sim<u32>, event: u32) {
            self.seen.push((sim.now().0, event));
            if event < 3 {
                sim.schedule_in(SimDuration(10), event + 1);
            }
        }
    }

    #[test]
    fn run_until_stops_at_the_horizon_and_resumes() {
        let mut sim = Sim::default();
        let mut model = Counter { seen: Vec::new() };
        sim.schedule(SimTime(5), 0);
        sim.run_until(&mut model, SimTime(20));
        assert_eq!(model.seen, vec![(5, 0), (15, 1)]);
        assert_eq!(sim.now(), SimTime(20));
        assert_eq!(sim.peek(), Some(SimTime(25)));
        sim.run_until(&mut model, SimTime(100));
        assert_eq!(model.seen.len(), 4);
        assert_eq!(sim.events_popped(), 4);
        assert!(!sim.step(&mut model));
    }
}
