//! Load balancing: which ready instance of a service gets the next attempt.

use super::spec::Balancer;
use crate::engine::StreamRng;
use rand::RngExt;

/// Per-service balancer state: a round-robin cursor and its own random stream.
pub struct BalancerState {
    pub kind: Balancer,
    cursor: usize,
    rng: StreamRng,
}

impl BalancerState {
    pub fn new(kind: Balancer, rng: StreamRng) -> BalancerState {
        BalancerState { kind, cursor: 0, rng }
    }

    /// Picks one of `ready` (instance indices), using `outstanding(i)` (attempts at
    /// instance i) for the load-aware policies. `None` when no instance is ready.
    #[inline]
    pub fn pick(&mut self, ready: &[u32], outstanding: impl Fn(u32) -> u32) -> Option<u32> {
        let n = ready.len();
        if n <= 1 {
            return ready.first().copied();
        }
        let chosen = match self.kind {
            Balancer::RoundRobin => {
                self.cursor = (self.cursor + 1) % n;
                self.cursor
            }
            Balancer::Random => self.rng.random_range(0..n),
            Balancer::LeastOutstanding => {
                // Start the scan at a rotating offset so ties do not all land on instance 0.
                self.cursor = (self.cursor + 1) % n;
                let mut best = self.cursor;
                let mut best_load = outstanding(ready[best]);
                for step in 1..n {
                    let idx = (self.cursor + step) % n;
                    let load = outstanding(ready[idx]);
                    if load < best_load {
                        best = idx;
                        best_load = load;
                    }
                }
                best
            }
            Balancer::PowerOfTwoChoices => {
                let first = self.rng.random_range(0..n);
                let second = (first + self.rng.random_range(1..n)) % n;
                if outstanding(ready[second]) < outstanding(ready[first]) { second } else { first }
            }
        };
        Some(ready[chosen])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn state(kind: Balancer) -> BalancerState {
        BalancerState::new(kind, RngStreams::new(1).stream("balancer"))
    }

    #[test]
    fn round_robin_cycles_through_ready_instances() {
        let mut b = state(Balancer::RoundRobin);
        let picks: Vec<u32> = (0..6).map(|_| b.pick(&[3, 5, 9], |_| 0).unwrap()).collect();
        assert_eq!(picks, vec![5, 9, 3, 5, 9, 3]);
    }

    #[test]
    fn least_outstanding_picks_the_idlest() {
        let mut b = state(Balancer::LeastOutstanding);
        let load = |i: u32| [4, 1, 7, 1][i as usize];
        for _ in 0..8 {
            let pick = b.pick(&[0, 1, 2, 3], load).unwrap();
            assert!(pick == 1 || pick == 3);
        }
    }

    #[test]
    fn power_of_two_never_picks_the_busiest_of_two() {
        let mut b = state(Balancer::PowerOfTwoChoices);
        // With two instances both are always compared: the idle one always wins.
        for _ in 0..100 {
            assert_eq!(b.pick(&[0, 1], |i| if i == 0 { 10 } else { 0 }), Some(1));
        }
    }

    #[test]
    fn random_covers_every_instance_and_none_when_empty() {
        let mut b = state(Balancer::Random);
        let mut seen = [false; 4];
        for _ in 0..200 {
            seen[b.pick(&[0, 1, 2, 3], |_| 0).unwrap() as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(b.pick(&[], |_| 0), None);
    }
}
