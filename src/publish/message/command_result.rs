//! The answer to one command on `<camera>/set` (docs/schema/command_result.schema.json), on
//! `<camera>/set/result` or the command's MQTT 5 response topic; the last one is also on `state`.

use serde::Serialize;
use serde_json::Value;

/// The answer to one command.
pub const COMMAND_RESULT_SCHEMA: &str = "lookout.command_result.v1";

/// The answer to a command: published for each one, and the last one carried on `state`.
#[derive(Debug, Clone, Serialize)]
pub struct CommandAck {
    /// The command's `id`, echoed so that a sender can match answers to commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub received: Value,
    pub accepted: bool,
    pub error: Option<String>,
    pub at: String,
}

/// `<camera>/set/result` (or the command's MQTT 5 response topic): the answer to one command.
#[derive(Debug, Serialize)]
pub struct CommandResult<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub camera: &'a str,
    #[serde(flatten)]
    pub ack: &'a CommandAck,
}
