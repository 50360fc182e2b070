//! The text people write for lookout, and what lookout says back about it: config files, model
//! manifests and names (classes, keys) read exactly and answered precisely. Used by `config/`,
//! `detect/`, `source/` and `track/` alike, so it imports nothing of theirs.
//!
//! - `toml_span.rs`: where in a TOML file a key or an error is (`line:col`)
//! - `suggest.rs`: "did you mean …?" for a misspelt name
//! - `exact.rs`: arrays of exactly N values for serde (toml silently drops extra ones)

pub mod exact;
pub mod suggest;
pub mod toml_span;
