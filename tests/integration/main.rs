//! The one integration-test binary; each module is a behaviour.

mod broken_scenarios;
