//! What MQTT's users need, at one path: the `[mqtt]` settings (`config.rs`) and the connection
//! (`publisher.rs`, with `shared.rs`'s counters and messages). The files themselves import each
//! other one way, never through here.

pub use super::client::ReplyTo;
pub use super::config::{redacted, BrokerUrl, MqttConfig, Qos};
pub use super::publisher::{write_metrics, MqttPublisher, MqttSnapshot};
pub use super::shared::{Command, Counters, OFFLINE, ONLINE};
