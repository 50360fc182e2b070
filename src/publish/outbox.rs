//! Store and forward for messages that must arrive (events, QoS ≥ 1): a bounded queue that keeps
//! a message until the broker acknowledges it, and sends it again after a reconnect. The MQTT
//! thread alone publishes from it, so the packet ids rumqttc assigns map back to messages in order.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;

/// What to drop when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Keep the newest events (default): the oldest waiting one is dropped.
    #[default]
    DropOldest,
    /// Keep what is queued: the new event is dropped.
    DropNewest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
}

/// The largest event payload lookout sends (and takes back from a spool): far above any event.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

impl Message {
    /// Why the client would refuse `self` for ever, if it would: such a message (from a damaged
    /// or edited spool) is dropped and counted instead of blocking every event behind it.
    pub fn unpublishable(&self) -> Option<&'static str> {
        if let Some(why) = super::topic_problem(&self.topic) {
            Some(why)
        } else if self.qos > 2 {
            Some("QoS is above 2")
        } else if self.payload.len() > MAX_EVENT_BYTES {
            Some("the payload is over 256 KiB")
        } else {
            None
        }
    }
}

/// What a QoS ≥ 1 publish handed to rumqttc was, until its packet id is known.
#[derive(Debug)]
enum Tag {
    Queued(Message),
    /// Status, state: not kept across reconnects (they are re-sent on connect anyway).
    Other,
}

#[derive(Debug)]
pub struct Outbox {
    waiting: VecDeque<Message>,
    /// Handed to rumqttc, packet id not seen yet (in order).
    handed: VecDeque<Tag>,
    /// Sent, waiting for PUBACK, by packet id, and their send order.
    inflight: HashMap<u16, (u64, Message)>,
    sent_counter: u64,
    capacity: usize,
    overflow: Overflow,
    pub dropped: u64,
    pub acked: u64,
}

/// Unacknowledged messages in flight at once.
const MAX_INFLIGHT: usize = 32;

impl Outbox {
    pub fn new(capacity: usize, overflow: Overflow) -> Outbox {
        Outbox {
            waiting: VecDeque::new(),
            handed: VecDeque::new(),
            inflight: HashMap::new(),
            sent_counter: 0,
            capacity: capacity.max(1),
            overflow,
            dropped: 0,
            acked: 0,
        }
    }

    /// Messages not yet acknowledged.
    pub fn len(&self) -> usize {
        self.waiting.len() + self.unacked()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn unacked(&self) -> usize {
        self.inflight.len()
            + self
                .handed
                .iter()
                .filter(|t| matches!(t, Tag::Queued(_)))
                .count()
    }

    /// Queues a message; when `capacity` messages already wait, the overflow policy drops one
    /// (counted). Messages in flight (at most 32, sent and awaiting their PUBACK) are not counted:
    /// they are not dropped to make room.
    pub fn push(&mut self, m: Message) {
        if self.waiting.len() >= self.capacity {
            self.dropped += 1;
            match self.overflow {
                Overflow::DropNewest => return,
                Overflow::DropOldest => {
                    self.waiting.pop_front();
                }
            }
        }
        self.waiting.push_back(m);
    }

    /// The next message to hand to the client, if the in-flight window has room.
    pub fn next_to_send(&mut self) -> Option<Message> {
        if self.unacked() >= MAX_INFLIGHT {
            return None;
        }
        self.waiting.pop_front()
    }

    /// `m` (from `next`) was handed to the client.
    pub fn handed(&mut self, m: Message) {
        self.handed.push_back(Tag::Queued(m));
    }

    /// The client refused `m` (its queue is full): it goes back to the front.
    pub fn refused(&mut self, m: Message) {
        self.waiting.push_front(m);
    }

    /// A QoS ≥ 1 message that is not ours to keep (status, state) was handed to the client.
    pub fn handed_other(&mut self) {
        self.handed.push_back(Tag::Other);
    }

    /// rumqttc sent a QoS ≥ 1 publish with this packet id: the oldest handed message.
    pub fn sent(&mut self, pkid: u16) {
        if pkid == 0 {
            return;
        }
        if let Some(Tag::Queued(m)) = self.handed.pop_front() {
            self.sent_counter += 1;
            self.inflight.insert(pkid, (self.sent_counter, m));
        }
    }

    pub fn ack(&mut self, pkid: u16) {
        if self.inflight.remove(&pkid).is_some() {
            self.acked += 1;
        }
    }

    /// Every message not yet acknowledged, oldest first, leaving the outbox empty (for the spool).
    pub fn take_all(&mut self) -> Vec<Message> {
        self.requeue();
        self.waiting.drain(..).collect()
    }

    /// Messages from the spool of an earlier run go first.
    pub fn preload(&mut self, messages: Vec<Message>) {
        for m in messages.into_iter().rev() {
            self.waiting.push_front(m);
        }
    }

    /// The connection dropped: every unacknowledged message goes back to the front of the queue,
    /// in the order it was first sent (it may have arrived: at least once).
    pub fn requeue(&mut self) {
        let mut inflight: Vec<(u64, Message)> = self.inflight.drain().map(|(_, v)| v).collect();
        inflight.sort_by_key(|(n, _)| *n);
        let handed = self.handed.drain(..).filter_map(|t| match t {
            Tag::Queued(m) => Some(m),
            Tag::Other => None,
        });
        let mut front: Vec<Message> = inflight.into_iter().map(|(_, m)| m).collect();
        front.extend(handed);
        for m in front.into_iter().rev() {
            self.waiting.push_front(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: u32) -> Message {
        Message {
            topic: "t".into(),
            payload: i.to_string().into_bytes(),
            qos: 1,
            retain: false,
        }
    }

    fn drain(o: &mut Outbox) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(m) = o.next_to_send() {
            out.push(String::from_utf8_lossy(&m.payload).into_owned());
            o.handed(m);
        }
        out
    }

    #[test]
    fn unacknowledged_messages_are_sent_again_in_order() {
        let mut o = Outbox::new(100, Overflow::DropOldest);
        for i in 0..5 {
            o.push(msg(i));
        }
        o.handed_other(); // the status, handed first
        assert_eq!(drain(&mut o), ["0", "1", "2", "3", "4"]);
        // pkid 1 is the status; 2, 3, 4 are messages 0, 1, 2; 3 and 4 are still in the client
        for pkid in [1, 2, 3, 4] {
            o.sent(pkid);
        }
        o.ack(1);
        o.ack(2);
        o.ack(4);
        assert_eq!(o.len(), 3, "1 in flight, 3 and 4 handed");
        o.requeue();
        assert_eq!(drain(&mut o), ["1", "3", "4"]);
        for pkid in [5, 6, 7] {
            o.sent(pkid);
            o.ack(pkid);
        }
        assert!(o.is_empty());
        assert_eq!(o.acked, 5);
    }

    #[test]
    fn messages_in_flight_do_not_push_new_ones_out() {
        let mut o = Outbox::new(2, Overflow::DropOldest);
        o.push(msg(0));
        o.push(msg(1));
        assert_eq!(drain(&mut o), ["0", "1"]); // both in flight
        o.push(msg(2));
        o.push(msg(3));
        o.push(msg(4)); // the queue holds 2: 2 goes
        assert_eq!(o.dropped, 1);
        assert_eq!(drain(&mut o), ["3", "4"]);
    }

    #[test]
    fn overflow_policies_drop_and_count() {
        let mut o = Outbox::new(3, Overflow::DropOldest);
        for i in 0..5 {
            o.push(msg(i));
        }
        assert_eq!(
            (o.dropped, drain(&mut o)),
            (2, vec!["2".into(), "3".into(), "4".into()])
        );
        let mut o = Outbox::new(3, Overflow::DropNewest);
        for i in 0..5 {
            o.push(msg(i));
        }
        assert_eq!(
            (o.dropped, drain(&mut o)),
            (2, vec!["0".into(), "1".into(), "2".into()])
        );
    }
}
