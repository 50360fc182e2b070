//! One face for rumqttc's MQTT 3.1.1 and MQTT 5 clients: options, publishing with MQTT 5
//! properties, and connection events reduced to what the publisher acts on, with failures sorted
//! into reasons an operator can act on.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::v5 as r5;

/// MQTT protocol version (`[mqtt] protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub enum Protocol {
    #[serde(rename = "3.1.1")]
    V311,
    #[default]
    #[serde(rename = "5")]
    V5,
}

/// How to connect.
pub struct Options {
    pub client_id: String,
    pub host: String,
    pub port: u16,
    pub keep_alive: Duration,
    pub credentials: Option<(String, String)>,
    /// Last will: retained QoS 1 `payload` on `topic`.
    pub will: (String, String),
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Requests that may wait in the client's channel.
    pub queue: usize,
}

/// MQTT 5 properties of a publish (ignored on 3.1.1).
#[derive(Debug, Clone, Default)]
pub struct Props {
    /// Seconds after which the broker discards the message instead of delivering it.
    pub expiry_s: Option<u32>,
    /// `application/json` for JSON payloads.
    pub content_type: Option<&'static str>,
    /// e.g. ("schema", "lookout.detections.v1").
    pub user: Vec<(String, String)>,
    /// The correlation data of the request this message answers.
    pub correlation: Option<Vec<u8>>,
}

/// Where an MQTT 5 request asked for its answer: its response topic and correlation data.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyTo {
    pub topic: String,
    pub correlation: Option<Vec<u8>>,
}

#[derive(Clone)]
pub enum Client {
    V4(rumqttc::Client),
    V5(r5::Client),
}

pub enum Connection {
    V4(Box<rumqttc::Connection>),
    V5(Box<r5::Connection>),
}

/// Why a connection failed; a metric label and the start of the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// Wrong user name or password, or not authorised.
    Auth,
    /// Certificate not trusted, wrong name, handshake refused.
    Tls,
    /// Nothing listens there (TCP connection refused).
    Refused,
    /// The broker refused the MQTT connection for another reason.
    Rejected,
    /// No answer in time.
    Timeout,
    /// Host unknown, network unreachable, connection reset, ...
    Network,
}

impl FailKind {
    pub const ALL: [FailKind; 6] = [
        FailKind::Auth,
        FailKind::Tls,
        FailKind::Refused,
        FailKind::Rejected,
        FailKind::Timeout,
        FailKind::Network,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::Auth => "auth",
            FailKind::Tls => "tls",
            FailKind::Refused => "refused",
            FailKind::Rejected => "rejected",
            FailKind::Timeout => "timeout",
            FailKind::Network => "network",
        }
    }
}

/// What happened on the connection.
pub enum Ev {
    ConnAck,
    /// A QoS ≥ 1 publish of ours was acknowledged.
    PubAck(u16),
    /// A publish of ours went to the network (pkid 0 for QoS 0).
    Sent(u16),
    /// A message on a topic we subscribed to: topic, payload, whether the broker kept it
    /// (retained) rather than passing it on live, and where an MQTT 5 request wants its answer.
    Message(String, Vec<u8>, bool, Option<ReplyTo>),
    /// We sent DISCONNECT.
    Disconnected,
    Other,
    /// The connection failed or dropped.
    Failed(FailKind, String),
}

fn qos4(q: u8) -> rumqttc::QoS {
    match q {
        0 => rumqttc::QoS::AtMostOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::ExactlyOnce,
    }
}

fn qos5(q: u8) -> r5::mqttbytes::QoS {
    match q {
        0 => r5::mqttbytes::QoS::AtMostOnce,
        1 => r5::mqttbytes::QoS::AtLeastOnce,
        _ => r5::mqttbytes::QoS::ExactlyOnce,
    }
}

pub fn connect(protocol: Protocol, o: Options) -> (Client, Connection) {
    let transport = o
        .tls
        .map(|cfg| rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(cfg)));
    match protocol {
        Protocol::V311 => {
            let mut m = rumqttc::MqttOptions::new(o.client_id, o.host, o.port);
            m.set_keep_alive(o.keep_alive)
                .set_clean_session(true)
                .set_max_packet_size(1 << 20, 1 << 20)
                .set_last_will(rumqttc::LastWill::new(
                    &o.will.0,
                    o.will.1,
                    rumqttc::QoS::AtLeastOnce,
                    true,
                ));
            if let Some((u, p)) = o.credentials {
                m.set_credentials(u, p);
            }
            if let Some(t) = transport {
                m.set_transport(t);
            }
            let (c, conn) = rumqttc::Client::new(m, o.queue);
            (Client::V4(c), Connection::V4(Box::new(conn)))
        }
        Protocol::V5 => {
            let mut m = r5::MqttOptions::new(o.client_id, o.host, o.port);
            m.set_keep_alive(o.keep_alive)
                .set_clean_start(true)
                // rumqttc's default (10 KiB) made a larger message on a subscribed topic (a
                // command) drop the connection; MQTT 5 tells the broker not to send more.
                .set_max_packet_size(Some(1 << 20))
                .set_last_will(r5::mqttbytes::v5::LastWill::new(
                    o.will.0,
                    o.will.1,
                    r5::mqttbytes::QoS::AtLeastOnce,
                    true,
                    None,
                ));
            if let Some((u, p)) = o.credentials {
                m.set_credentials(u, p);
            }
            if let Some(t) = transport {
                m.set_transport(t);
            }
            let (c, conn) = r5::Client::new(m, o.queue);
            (Client::V5(c), Connection::V5(Box::new(conn)))
        }
    }
}

impl Client {
    /// Queues a publish without waiting; false when the request queue is full.
    pub fn try_publish(
        &self,
        topic: &str,
        qos: u8,
        retain: bool,
        payload: Vec<u8>,
        props: Option<&Props>,
    ) -> bool {
        match self {
            Client::V4(c) => c.try_publish(topic, qos4(qos), retain, payload).is_ok(),
            Client::V5(c) => match props {
                Some(p) => {
                    let props = r5::mqttbytes::v5::PublishProperties {
                        message_expiry_interval: p.expiry_s,
                        content_type: p.content_type.map(str::to_string),
                        user_properties: p.user.clone(),
                        correlation_data: p.correlation.clone().map(Into::into),
                        ..Default::default()
                    };
                    c.try_publish_with_properties(topic, qos5(qos), retain, payload, props)
                        .is_ok()
                }
                None => c.try_publish(topic, qos5(qos), retain, payload).is_ok(),
            },
        }
    }

    pub fn try_subscribe(&self, filter: &str, qos: u8) -> bool {
        match self {
            Client::V4(c) => c.try_subscribe(filter, qos4(qos)).is_ok(),
            Client::V5(c) => c.try_subscribe(filter, qos5(qos)).is_ok(),
        }
    }

    pub fn try_disconnect(&self) {
        let _ = match self {
            Client::V4(c) => c.try_disconnect().is_ok(),
            Client::V5(c) => c.try_disconnect().is_ok(),
        };
    }
}

impl Connection {
    /// The next event; `None` once the client is gone. `wait`: give up after this long (`Other`).
    pub fn next(&mut self, wait: Option<Duration>) -> Option<Ev> {
        match self {
            Connection::V4(c) => {
                let r = match wait {
                    Some(w) => match c.recv_timeout(w) {
                        Ok(r) => r,
                        Err(rumqttc::RecvTimeoutError::Timeout) => return Some(Ev::Other),
                        Err(rumqttc::RecvTimeoutError::Disconnected) => return None,
                    },
                    None => c.recv().ok()?,
                };
                Some(match r {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => Ev::ConnAck,
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(a))) => Ev::PubAck(a.pkid),
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        Ev::Message(p.topic, p.payload.to_vec(), p.retain, None)
                    }
                    Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => {
                        Ev::Sent(pkid)
                    }
                    Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)) => Ev::Disconnected,
                    Ok(_) => Ev::Other,
                    Err(e) => {
                        let (k, t) = classify4(&e);
                        Ev::Failed(k, t)
                    }
                })
            }
            Connection::V5(c) => {
                let r = match wait {
                    Some(w) => match c.recv_timeout(w) {
                        Ok(r) => r,
                        Err(r5::RecvTimeoutError::Timeout) => return Some(Ev::Other),
                        Err(r5::RecvTimeoutError::Disconnected) => return None,
                    },
                    None => c.recv().ok()?,
                };
                use r5::mqttbytes::v5::Packet as P;
                Some(match r {
                    Ok(r5::Event::Incoming(P::ConnAck(_))) => Ev::ConnAck,
                    Ok(r5::Event::Incoming(P::PubAck(a))) => Ev::PubAck(a.pkid),
                    Ok(r5::Event::Incoming(P::Publish(p))) => {
                        let reply = p.properties.as_ref().and_then(|pr| {
                            Some(ReplyTo {
                                topic: pr.response_topic.clone()?,
                                correlation: pr.correlation_data.as_ref().map(|b| b.to_vec()),
                            })
                        });
                        Ev::Message(
                            String::from_utf8_lossy(&p.topic).into_owned(),
                            p.payload.to_vec(),
                            p.retain,
                            reply,
                        )
                    }
                    Ok(r5::Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => Ev::Sent(pkid),
                    Ok(r5::Event::Outgoing(rumqttc::Outgoing::Disconnect)) => Ev::Disconnected,
                    Ok(_) => Ev::Other,
                    Err(e) => {
                        let (k, t) = classify5(&e);
                        Ev::Failed(k, t)
                    }
                })
            }
        }
    }
}

fn io_kind(e: &std::io::Error) -> (FailKind, String) {
    if let Some(tls) = super::tls::describe(e) {
        return (FailKind::Tls, tls);
    }
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => (
            FailKind::Refused,
            "connection refused; is a broker running there? (e.g. `mosquitto -d`)".into(),
        ),
        std::io::ErrorKind::TimedOut => (FailKind::Timeout, format!("{e}")),
        _ => (
            FailKind::Network,
            format!("{e}; check the host and network"),
        ),
    }
}

/// Sorts a connection error of either protocol version into a reason and a line of advice. The
/// two versions' error types differ in names only; the caller brings `CE` (ConnectionError),
/// `RC` (ConnectReturnCode), `StateError` and `MqttBytesError` into scope.
macro_rules! classify {
    ($e:expr, $timeout:pat) => {
        match $e {
            CE::ConnectionRefused(RC::BadUserNamePassword | RC::NotAuthorized) => (
                FailKind::Auth,
                format!(
                    "the broker refused the credentials ({}); check [mqtt] username and the password",
                    $e
                ),
            ),
            CE::ConnectionRefused(code) => (
                FailKind::Rejected,
                format!("the broker refused the connection ({code:?}); check its configuration"),
            ),
            CE::Io(io) => io_kind(io),
            CE::Tls(rumqttc::TlsError::Io(io)) => {
                let (k, t) = io_kind(io);
                (if k == FailKind::Refused { k } else { FailKind::Tls }, t)
            }
            CE::Tls(other) => (FailKind::Tls, format!("TLS failed: {other}")),
            CE::MqttState(StateError::Deserialization(MqttBytesError::Io(io)))
            | CE::MqttState(StateError::Io(io)) => io_kind(io),
            $timeout => (
                FailKind::Timeout,
                "the broker did not answer in time; check the host and network".into(),
            ),
            other => (FailKind::Network, format!("{other}")),
        }
    };
}

fn classify4(e: &rumqttc::ConnectionError) -> (FailKind, String) {
    use rumqttc::mqttbytes::Error as MqttBytesError;
    use rumqttc::{ConnectReturnCode as RC, ConnectionError as CE, StateError};
    classify!(e, CE::NetworkTimeout)
}

fn classify5(e: &r5::ConnectionError) -> (FailKind, String) {
    use r5::mqttbytes::v5::ConnectReturnCode as RC;
    use r5::mqttbytes::Error as MqttBytesError;
    use r5::{ConnectionError as CE, StateError};
    classify!(e, CE::Timeout(_))
}
