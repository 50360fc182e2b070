//! `<root>/<camera>/counts` (retained; docs/schema/counts.schema.json).

use serde::Serialize;

/// `<root>/<camera>/counts` (retained): objects in view per class.
pub const COUNTS_SCHEMA: &str = "lookout.counts.v1";

/// `<root>/<camera>/counts`: the objects of the latest frame per class, sent when they change.
#[derive(Debug, Serialize)]
pub struct CountsMessage<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub camera: &'a str,
    pub counts: &'a std::collections::BTreeMap<String, usize>,
    pub updated_at: String,
}
