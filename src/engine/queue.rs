//! The future event list: a binary heap keyed by `(time, insertion sequence)`.
//!
//! Contract: events pop in time order, and events scheduled for the same instant pop in
//! the order they were scheduled (FIFO ties). That makes a run a pure function of its
//! seed. The key is packed into one `u128` so a comparison is a single integer compare.
//! Cost: O(log n) push and pop; memory is the events pending, nothing per popped event.
//!
//! Beside the heap sit *lanes*: FIFO queues for timers that are always set the same delay
//! ahead (a client's per-attempt timeout), so they arrive already sorted. A lane push is
//! O(1); a pop compares the lane fronts with the heap's top once (O(lanes), and lanes are
//! few: one per client with a timeout), and keeping those timers out of the heap keeps it
//! small. Lanes carry the same `(time, seq)` keys, so the pop order is exactly the
//! heap-only order; an event that would break a lane's order goes to the heap instead.
//!
//! Most events schedule one more as they are handled (an arrival the next arrival, a
//! completion the next queued attempt's). So a pop from the heap leaves its entry at the
//! root, *taken*, and the next push overwrites it and sifts it down once: one pass through
//! the heap instead of a pop's two and a push's one. The next pop removes a taken root
//! that no push replaced. The set of pending keys is the same either way, so is the order.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

struct Entry<E> {
    /// `time << 64 | seq`; smaller pops first.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, because `BinaryHeap` is a max-heap.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// The heap's root was popped and awaits the next push in its place.
    taken: bool,
    lanes: Vec<VecDeque<Entry<E>>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(1024), taken: false, lanes: Vec::new(), next_seq: 0 }
    }
}

impl<E: Copy> EventQueue<E> {
    #[inline]
    fn key(&mut self, at: SimTime) -> u128 {
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        key
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        let key = self.key(at);
        self.push_heap(Entry { key, event });
    }

    /// Into the heap: in place of a taken root (sifted down as the guard drops), or pushed.
    #[inline]
    fn push_heap(&mut self, entry: Entry<E>) {
        if self.taken {
            self.taken = false;
            if let Some(mut root) = self.heap.peek_mut() {
                *root = entry;
                return;
            }
        }
        self.heap.push(entry);
    }

    /// The heap's earliest entry still pending: the root, or if it was taken, the earlier
    /// of its children.
    #[inline]
    fn heap_front(&self) -> Option<&Entry<E>> {
        let entries = self.heap.as_slice();
        if !self.taken {
            return entries.first();
        }
        match (entries.get(1), entries.get(2)) {
            (Some(left), Some(right)) => Some(if left.key < right.key { left } else { right }),
            (left, _) => left,
        }
    }

    /// Pushes onto FIFO lane `lane` (created on first use). Meant for timers set a constant
    /// delay ahead; one that would land before the lane's last entry goes to the heap.
    #[inline]
    pub fn push_lane(&mut self, lane: usize, at: SimTime, event: E) {
        let key = self.key(at);
        if lane >= self.lanes.len() {
            self.lanes.resize_with(lane + 1, VecDeque::new);
        }
        let queue = &mut self.lanes[lane];
        if queue.back().is_none_or(|last| last.key <= key) {
            queue.push_back(Entry { key, event });
        } else {
            self.push_heap(Entry { key, event });
        }
    }

    /// Where the earliest pending event sits and its key: one scan of the lane fronts
    /// against the heap's top. Ties cannot happen, as every key is unique.
    #[inline]
    fn earliest(&self) -> Option<(Front, u128)> {
        let mut best = self.heap_front().map(|top| (Front::Heap, top.key));
        for (idx, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.front()
                && best.is_none_or(|(_, key)| front.key < key)
            {
                best = Some((Front::Lane(idx), front.key));
            }
        }
        best
    }

    /// Pops the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime(u64::MAX))
    }

    /// Pops the earliest event if it is due at or before `until`. The driver's loop uses
    /// this rather than a peek followed by a pop, which would scan the lanes twice.
    #[inline]
    pub fn pop_until(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        let (front, key) = self.earliest()?;
        let at = SimTime((key >> 64) as u64);
        if at > until {
            return None;
        }
        let event = match front {
            Front::Heap => {
                // A root taken before and not replaced goes now; the entry wanted is then
                // the root, left in place for the next push.
                if self.taken {
                    self.heap.pop();
                }
                self.taken = true;
                self.heap.peek().map(|root| root.event)
            }
            Front::Lane(idx) => self.lanes[idx].pop_front().map(|entry| entry.event),
        };
        debug_assert!(self.heap_front().is_none_or(|entry| entry.key > key));
        event.map(|event| (at, event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.earliest().map(|(_, key)| SimTime((key >> 64) as u64))
    }

    /// Events pending, in the heap and in every lane.
    pub fn len(&self) -> usize {
        self.heap.len() - usize::from(self.taken) + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// Whether no event is pending, in the heap or in any lane.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where the earliest pending event sits.
#[derive(Clone, Copy)]
enum Front {
    Heap,
    Lane(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_with_fifo_ties() {
        let mut queue = EventQueue::default();
        queue.push(SimTime(5), 'c');
        queue.push(SimTime(1), 'a');
        queue.push(SimTime(5), 'd');
        queue.push(SimTime(3), 'b');
        queue.push(SimTime(5), 'e');
        queue.push(SimTime(u64::MAX), 'z');
        let order: Vec<char> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd', 'e', 'z']);
    }

    #[test]
    fn lanes_interleave_with_the_heap_in_exact_key_order() {
        // The same pushes through lanes and through the heap alone pop identically.
        let pushes: Vec<(Option<usize>, u64)> = vec![
            (None, 10),
            (Some(0), 5),
            (Some(0), 5),
            (Some(1), 7),
            (None, 5),
            (Some(0), 12),
            (Some(0), 6), // out of lane order: must still pop at 6
            (Some(1), 7),
            (None, 7),
        ];
        let mut with_lanes = EventQueue::default();
        let mut heap_only = EventQueue::default();
        for (idx, &(lane, t)) in pushes.iter().enumerate() {
            match lane {
                Some(lane) => with_lanes.push_lane(lane, SimTime(t), idx),
                None => with_lanes.push(SimTime(t), idx),
            }
            heap_only.push(SimTime(t), idx);
        }
        assert_eq!(with_lanes.len(), pushes.len());
        let mut a = Vec::new();
        while let Some(next) = with_lanes.pop() {
            a.push(next);
        }
        let b: Vec<_> = std::iter::from_fn(|| heap_only.pop()).collect();
        assert_eq!(a, b);
        assert_eq!(a.iter().map(|(t, _)| t.0).collect::<Vec<_>>(), vec![5, 5, 5, 6, 7, 7, 7, 10, 12]);
    }

    /// Pops interleaved with pushes (a taken root replaced by the next push, or removed by
    /// the next pop) give exactly the order of a sorted reference, with lanes in play.
    #[test]
    fn interleaved_pops_and_pushes_keep_key_order() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        let mut queue = EventQueue::default();
        let mut reference = std::collections::BTreeSet::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for _ in 0..20_000 {
            if rng.random_bool(0.52) || reference.is_empty() {
                let at = now + rng.random_range(0..50);
                match rng.random_range(0..4) {
                    0 => queue.push_lane(rng.random_range(0..2), SimTime(at), seq),
                    _ => queue.push(SimTime(at), seq),
                }
                reference.insert((at, seq));
                seq += 1;
            } else {
                let expected = reference.pop_first().unwrap();
                assert_eq!(queue.peek_time(), Some(SimTime(expected.0)));
                assert_eq!(queue.pop(), Some((SimTime(expected.0), expected.1)));
                now = expected.0;
            }
            assert_eq!(queue.len(), reference.len());
        }
        while let Some((at, seq)) = reference.pop_first() {
            assert_eq!(queue.pop(), Some((SimTime(at), seq)));
        }
        assert!(queue.is_empty());
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn peek_reports_the_earliest_time() {
        let mut queue = EventQueue::default();
        assert_eq!(queue.peek_time(), None);
        queue.push(SimTime(9), ());
        queue.push(SimTime(4), ());
        assert_eq!(queue.peek_time(), Some(SimTime(4)));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn an_event_on_a_lane_alone_is_pending() {
        let mut queue = EventQueue::default();
        assert!(queue.is_empty());
        queue.push_lane(2, SimTime(3), 'a');
        assert!(!queue.is_empty(), "a lane's event counts");
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop(), Some((SimTime(3), 'a')));
        assert!(queue.is_empty());
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn pop_until_leaves_later_events_in_place() {
        let mut queue = EventQueue::default();
        queue.push(SimTime(8), 'h');
        queue.push_lane(0, SimTime(4), 'l');
        queue.push(SimTime(4), 'x');
        assert_eq!(queue.pop_until(SimTime(3)), None);
        assert_eq!(queue.pop_until(SimTime(4)), Some((SimTime(4), 'l')));
        assert_eq!(queue.pop_until(SimTime(4)), Some((SimTime(4), 'x')));
        assert_eq!(queue.pop_until(SimTime(7)), None);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop_until(SimTime(8)), Some((SimTime(8), 'h')));
        assert_eq!(queue.pop_until(SimTime(u64::MAX)), None);
    }
}
