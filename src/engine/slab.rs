//! Generational slots for things in flight (requests, attempts).
//!
//! A freed slot is reused, so memory is O(items alive), not O(items ever made). Each key
//! carries the slot's generation; a timer holding a key to a freed-and-reused slot finds
//! a different generation and is ignored (lazy cancellation without a set of cancelled ids).

/// A handle to a slot: index plus the generation it was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub slot: u32,
    pub generation: u32,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> Slab<T> {
    #[inline]
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.slots[slot as usize];
            debug_assert!(entry.value.is_none());
            entry.value = Some(value);
            Key { slot, generation: entry.generation }
        } else {
            let slot = self.slots.len() as u32;
            self.slots.push(Slot { generation: 0, value: Some(value) });
            Key { slot, generation: 0 }
        }
    }

    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.slot as usize) {
            Some(entry) if entry.generation == key.generation => entry.value.as_ref(),
            _ => None,
        }
    }

    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.slot as usize) {
            Some(entry) if entry.generation == key.generation => entry.value.as_mut(),
            _ => None,
        }
    }

    /// Whether `key` still names a live item.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Frees the slot and bumps its generation; stale keys stop resolving.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.slots.get_mut(key.slot as usize)?;
        if entry.generation != key.generation {
            return None;
        }
        let value = entry.value.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(key.slot);
        self.len -= 1;
        Some(value)
    }

    /// Items alive, in slot order (for end-of-run accounting, not the hot loop).
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|slot| slot.value.as_ref())
    }

    /// Keys of the items alive that match `keep`, in slot order (rare events only).
    pub fn keys_where(&self, keep: impl Fn(&T) -> bool) -> Vec<Key> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, entry)| {
                let value = entry.value.as_ref()?;
                keep(value).then_some(Key { slot: slot as u32, generation: entry.generation })
            })
            .collect()
    }

    /// Items alive.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots ever allocated: the high-water mark of items alive at once.
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_do_not_resolve_after_reuse() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(b.slot, a.slot, "the freed slot is reused");
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.capacity_used(), 1);
    }
}
