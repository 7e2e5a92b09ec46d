//! Ids of the scenario's components: the model and the statistics both index by them, so
//! they sit below both. Components live in `Vec`s and refer to each other by index, never
//! by reference; distinct types keep a service id from being passed as a client id.
//!
//! Cost: none. Each id is a `#[repr(transparent)]` `u32`, `Copy`, and `idx()` is a cast.
//! `Debug` prints the bare number, as the plain indices these replaced did, so a scenario
//! printed for a test or a bug report reads as before.

use std::fmt;

macro_rules! index_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The id of the entry at `idx` of its table.
            #[inline]
            pub fn from_idx(idx: usize) -> $name {
                $name(idx as u32)
            }

            /// The position in its table, for indexing.
            #[inline]
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

index_id!(
    /// A source of requests.
    SourceId
);
index_id!(
    /// A request class.
    ClassId
);
index_id!(
    /// An alert (`[alerts.NAME]`).
    AlertId
);
index_id!(
    /// A client (a caller with a timeout and a retry policy).
    ClientId
);
index_id!(
    /// A service (a pool of instances). A service deployed in several regions is one pool
    /// per region, each with its own id.
    ServiceId
);
index_id!(
    /// A region (`[regions.NAME]`): requests have a home region, routers fail over between
    /// regions.
    RegionId
);
index_id!(
    /// A cell (`[cells]`): a copy of the cellular services serving a share of the
    /// customers, each customer's requests staying in its cell.
    CellId
);
index_id!(
    /// A zone of one pool: the index into its service's zones.
    ZoneId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cost_nothing_and_print_as_the_plain_index() {
        assert_eq!(size_of::<ServiceId>(), size_of::<u32>());
        assert_eq!(size_of::<Option<ClassId>>(), size_of::<Option<u32>>());
        // The scenario's fingerprint hashes its Debug text: an id must print as the usize
        // it replaced.
        assert_eq!(format!("{:?}", Some(ClientId::from_idx(3))), format!("{:?}", Some(3usize)));
        assert_eq!(format!("{:#?}", ServiceId(12)), format!("{:#?}", 12usize));
    }
}
