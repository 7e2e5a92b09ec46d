//! Closed-loop users: how many a source has at each instant, and how many are present.
//!
//! Users are interchangeable (each thinks for an independent draw of the same law), so a
//! population is two counters, not a list: `target`, the users the profile asks for now,
//! and `active`, those present, thinking or waiting for a request. When the profile rises,
//! the newcomers join at once; when it falls, no request is cut off: a user leaves when it
//! next settles a request or wakes from thinking while more are present than asked for.
//!
//! Cost: O(1) per user event; a change of the profile costs O(points crossed) to find the
//! next one. Nothing allocates after `new`.

use super::spec::UsersProfile;
use crate::engine::SimTime;

#[derive(Clone, Debug)]
pub struct Population {
    /// `(time ns, users)`, starting at t = 0 (the count before the first point is the
    /// first count).
    points: Vec<(u64, u32)>,
    /// Users the profile asks for now.
    target: u32,
    /// Users present: thinking, or waiting for their request's outcome.
    active: u32,
}

impl Population {
    pub fn new(profile: &UsersProfile) -> Population {
        let mut points: Vec<(u64, u32)> = profile.points.iter().map(|&(t, users)| (t.0, users)).collect();
        match points.first().copied() {
            Some((first_at, users)) if first_at > 0 => points.insert(0, (0, users)),
            Some(_) => {}
            None => points.push((0, 0)),
        }
        Population { points, target: 0, active: 0 }
    }

    /// Users present now.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// The users the profile gives at `t`: a user joins (or leaves) each time the line
    /// between two points crosses a whole number.
    pub fn users_at(&self, t: SimTime) -> u32 {
        let idx = self.points.partition_point(|&(at, _)| at <= t.0).saturating_sub(1);
        let (t0, u0) = self.points[idx];
        let Some(&(t1, u1)) = self.points.get(idx + 1) else { return u0 };
        let crossed = crossings(t.0 - t0, t1 - t0, u0.abs_diff(u1));
        if u1 >= u0 { u0 + crossed } else { u0 - crossed }
    }

    /// The first instant after `now` at which the count changes, or `None` if it never
    /// does again.
    pub fn next_change(&self, now: SimTime) -> Option<SimTime> {
        let mut idx = self.points.partition_point(|&(at, _)| at <= now.0).saturating_sub(1);
        let mut elapsed = now.0 - self.points[idx].0;
        while let Some(&(t1, u1)) = self.points.get(idx + 1) {
            let (t0, u0) = self.points[idx];
            let (span, steps) = (t1 - t0, u0.abs_diff(u1));
            if steps > 0 {
                // The smallest e with floor(e * steps / span) > the crossings so far.
                let next = u128::from(crossings(elapsed, span, steps)) + 1;
                let at = (next * u128::from(span)).div_ceil(u128::from(steps));
                return Some(SimTime(t0 + (at as u64).min(span)));
            }
            idx += 1;
            elapsed = 0;
        }
        None
    }

    /// Reads the profile at `now`; returns how many users join (those the profile adds
    /// beyond the ones present). Users beyond the profile leave later, one by one (`stays`).
    pub fn update(&mut self, now: SimTime) -> u32 {
        self.target = self.users_at(now);
        let joining = self.target.saturating_sub(self.active);
        self.active += joining;
        joining
    }

    /// A user has settled a request or finished thinking: whether it goes on. One that
    /// does not leaves the population.
    #[inline]
    pub fn stays(&mut self) -> bool {
        if self.active > self.target {
            self.active -= 1;
            return false;
        }
        true
    }
}

/// Whole numbers crossed after `elapsed` of a `span` over which the count moves by
/// `steps`: `floor(elapsed * steps / span)`, exactly.
fn crossings(elapsed: u64, span: u64, steps: u32) -> u32 {
    let crossed = u128::from(elapsed) * u128::from(steps) / u128::from(span.max(1));
    crossed.min(u128::from(steps)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    fn population(points: &[(u64, u32)]) -> Population {
        Population::new(&UsersProfile { points: points.iter().map(|&(s, users)| (secs(s), users)).collect() })
    }

    #[test]
    fn a_ramp_adds_one_user_per_whole_number_crossed() {
        let ramp = population(&[(10, 0), (20, 5)]);
        assert_eq!(ramp.users_at(secs(0)), 0, "before the first point: the first count");
        assert_eq!(ramp.users_at(secs(11)), 0);
        assert_eq!(ramp.users_at(secs(12)), 1, "5 users over 10 s: one every 2 s");
        assert_eq!(ramp.users_at(secs(19)), 4);
        assert_eq!(ramp.users_at(secs(99)), 5);
        let mut changes = Vec::new();
        let mut now = secs(0);
        while let Some(next) = ramp.next_change(now) {
            assert_eq!(ramp.users_at(next), ramp.users_at(SimTime(next.0 - 1)) + 1, "{next:?}");
            changes.push(next);
            now = next;
        }
        assert_eq!(changes, [secs(12), secs(14), secs(16), secs(18), secs(20)]);
    }

    #[test]
    fn a_fall_and_flat_stretches_are_followed_exactly() {
        let profile = population(&[(0, 3), (30, 3), (33, 0), (40, 0), (41, 7)]);
        assert_eq!(profile.next_change(secs(0)), Some(secs(31)), "flat, then one leaves each second");
        assert_eq!(profile.users_at(secs(31)), 2);
        assert_eq!(profile.next_change(secs(33)), Some(SimTime(40_000_000_000 + 142_857_143)));
        assert_eq!(profile.users_at(secs(41)), 7);
        assert_eq!(profile.next_change(secs(41)), None);
        assert_eq!(population(&[(0, 50)]).next_change(secs(0)), None, "a constant never changes");
    }

    #[test]
    fn users_beyond_the_profile_leave_as_they_finish() {
        let mut users = population(&[(0, 4), (10, 4), (11, 1)]);
        assert_eq!(users.update(secs(0)), 4);
        assert_eq!(users.update(secs(11)), 0, "nobody joins when the profile falls");
        assert_eq!(users.active(), 4, "nor is anyone cut off");
        let outcomes: Vec<bool> = (0..5).map(|_| users.stays()).collect();
        assert_eq!(outcomes, [false, false, false, true, true]);
        assert_eq!(users.active(), 1);
    }
}
