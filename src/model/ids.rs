//! Newtype ids: components live in `Vec`s and refer to each other by index, never by
//! reference. Distinct types keep a service id from being used as a class id.

use crate::engine::Key;

macro_rules! index_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            #[inline]
            pub fn idx(self) -> usize {
                self.0 as usize
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
    /// A client (a caller with a timeout and a retry policy).
    ClientId
);
index_id!(
    /// A service (a pool of instances).
    ServiceId
);

/// A request in flight: a slot in the request slab plus its generation.
pub type RequestId = Key;
/// An attempt in flight: a slot in the attempt slab plus its generation.
pub type AttemptId = Key;
