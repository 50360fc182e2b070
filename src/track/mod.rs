//! Tracking: objects over time between detect and publish (issue #13).

pub mod mot;
