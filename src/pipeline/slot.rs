//! The one-place buffer between capture and inference: capture never waits for inference in
//! latest-wins mode (a newer frame replaces an unprocessed one), and waits in every-frame mode.

use std::sync::{Condvar, Mutex};

/// A one-place buffer between capture and inference. In latest-wins mode a new frame replaces an
/// unprocessed one (the caller counts it); in wait mode capture blocks until the slot is free.
pub struct FrameSlot<T> {
    state: Mutex<SlotState<T>>,
    changed: Condvar,
}

struct SlotState<T> {
    item: Option<T>,
    closed: bool,
}

impl<T> Default for FrameSlot<T> {
    fn default() -> Self {
        FrameSlot {
            state: Mutex::new(SlotState {
                item: None,
                closed: false,
            }),
            changed: Condvar::new(),
        }
    }
}

impl<T> FrameSlot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Latest wins: stores `item`, returning the unprocessed item it replaced.
    pub fn put_latest(&self, item: T) -> Option<T> {
        let old = self.lock().item.replace(item);
        self.changed.notify_all();
        old
    }

    /// Waits until the slot is empty, then stores `item`. Gives it back if the slot was closed.
    pub fn put_wait(&self, item: T) -> std::result::Result<(), T> {
        let mut s = self.lock();
        while s.item.is_some() && !s.closed {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if s.closed {
            return Err(item);
        }
        s.item = Some(item);
        drop(s);
        self.changed.notify_all();
        Ok(())
    }

    /// Waits until the slot is empty (its item was taken) or closed.
    pub fn wait_empty(&self) {
        let mut s = self.lock();
        while s.item.is_some() && !s.closed {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Waits for an item; `None` once the slot is closed and empty.
    pub fn take(&self) -> Option<T> {
        let mut s = self.lock();
        loop {
            if let Some(item) = s.item.take() {
                drop(s);
                self.changed.notify_all();
                return Some(item);
            }
            if s.closed {
                return None;
            }
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No more items will be put; wakes every waiter.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn latest_wins_replaces_and_reports_the_old_item() {
        let slot = FrameSlot::default();
        assert_eq!(slot.put_latest(1), None);
        assert_eq!(slot.put_latest(2), Some(1));
        assert_eq!(slot.take(), Some(2));
        slot.close();
        assert_eq!(slot.take(), None);
        assert_eq!(slot.put_wait(3), Err(3));
    }

    #[test]
    fn put_wait_blocks_until_taken() {
        let slot = Arc::new(FrameSlot::default());
        let producer = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    slot.put_wait(i).expect("open");
                }
                slot.close();
            })
        };
        let mut got = Vec::new();
        while let Some(i) = slot.take() {
            got.push(i);
        }
        producer.join().expect("producer");
        assert_eq!(
            got,
            (0..100).collect::<Vec<_>>(),
            "wait mode delivers every item in order"
        );
    }
}
