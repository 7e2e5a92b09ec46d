//! The future event list: a binary heap keyed by `(time, insertion sequence)`.
//!
//! Contract: events pop in time order, and events scheduled for the same instant pop in
//! the order they were scheduled (FIFO ties). That makes a run a pure function of its
//! seed. The key is packed into one `u128` so a comparison is a single integer compare.
//! Cost: O(log n) push and pop; memory is the events pending, nothing per popped event.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(1024), next_seq: 0 }
    }
}

impl<E> EventQueue<E> {
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        self.heap.push(Entry { key, event });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|entry| (SimTime((entry.key >> 64) as u64), entry.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|entry| SimTime((entry.key >> 64) as u64))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
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
    fn peek_reports_the_earliest_time() {
        let mut queue = EventQueue::default();
        assert_eq!(queue.peek_time(), None);
        queue.push(SimTime(9), ());
        queue.push(SimTime(4), ());
        assert_eq!(queue.peek_time(), Some(SimTime(4)));
        assert_eq!(queue.len(), 2);
    }
}
