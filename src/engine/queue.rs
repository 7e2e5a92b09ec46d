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
    lanes: Vec<VecDeque<Entry<E>>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(1024), lanes: Vec::new(), next_seq: 0 }
    }
}

impl<E> EventQueue<E> {
    #[inline]
    fn key(&mut self, at: SimTime) -> u128 {
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        key
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        let key = self.key(at);
        self.heap.push(Entry { key, event });
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
            self.heap.push(Entry { key, event });
        }
    }

    /// Where the earliest pending event sits and its key: one scan of the lane fronts
    /// against the heap's top. Ties cannot happen, as every key is unique.
    #[inline]
    fn earliest(&self) -> Option<(Front, u128)> {
        let mut best = self.heap.peek().map(|top| (Front::Heap, top.key));
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
        let entry = match front {
            Front::Heap => self.heap.pop(),
            Front::Lane(idx) => self.lanes[idx].pop_front(),
        };
        debug_assert!(entry.as_ref().is_some_and(|entry| entry.key == key));
        entry.map(|entry| (at, entry.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.earliest().map(|(_, key)| SimTime((key >> 64) as u64))
    }

    /// Events pending, in the heap and in every lane.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// Whether no event is pending, in the heap or in any lane.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lanes.iter().all(VecDeque::is_empty)
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
