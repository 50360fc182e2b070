//! Tracking: stable object IDs per camera, and what they do in zones and across lines.

pub mod geometry;
pub mod lines;
pub mod zones;
