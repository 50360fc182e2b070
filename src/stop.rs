//! One stop signal for every thread. SIGTERM/SIGINT stop the whole program; removing a camera stops
//! that camera; a pipeline that ends stops its capture thread. Tokens form a tree: stopping one
//! stops its children (never its parent). Waiting on a token wakes the moment it is stopped, so no
//! thread polls a flag with sleeps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct StopToken {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Read without the lock on hot paths (once per frame).
    stopped: AtomicBool,
    /// Guards the wake-up: set under it, waited on with `changed`.
    lock: Mutex<Vec<Weak<Inner>>>,
    changed: Condvar,
}

impl Inner {
    fn stop(&self) {
        let children = {
            let mut children = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.stopped.store(true, Ordering::SeqCst);
            std::mem::take(&mut *children)
        };
        self.changed.notify_all();
        for child in children.iter().filter_map(Weak::upgrade) {
            child.stop();
        }
    }
}

impl StopToken {
    pub fn new() -> StopToken {
        StopToken::default()
    }

    /// A token that stops when this one does, and can be stopped on its own.
    pub fn child(&self) -> StopToken {
        let child = StopToken::new();
        let mut children = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.inner.stopped.load(Ordering::SeqCst) {
            child.inner.stopped.store(true, Ordering::SeqCst);
        } else {
            children.retain(|c| c.strong_count() > 0);
            children.push(Arc::downgrade(&child.inner));
        }
        child
    }

    /// Stops this token and its children, waking everything that waits on them.
    pub fn stop(&self) {
        self.inner.stop();
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Sleeps for `d` unless stopped first; true when stopped.
    pub fn wait_timeout(&self, d: Duration) -> bool {
        self.wait_until(Instant::now() + d)
    }

    /// Sleeps until `deadline` unless stopped first; true when stopped.
    pub fn wait_until(&self, deadline: Instant) -> bool {
        let mut guard = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.is_stopped() {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            guard = self
                .inner
                .changed
                .wait_timeout(guard, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Runs `f` on a thread of its own once this token is stopped: for waits that cannot watch a
    /// token themselves (a `select!` over channels, `poll(2)` on sockets), `f` closes something
    /// they do watch.
    pub fn on_stop(&self, name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let token = self.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !token.wait_timeout(Duration::from_secs(3600)) {}
                f();
            })?;
        Ok(())
    }

    /// A token stopped by SIGINT or SIGTERM (the frame in flight finishes, then everything stops).
    /// A watcher thread turns the signal into [`StopToken::stop`]: a signal handler may not take
    /// locks.
    pub fn on_signals() -> std::io::Result<StopToken> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let token = StopToken::new();
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let watcher = token.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if signals.forever().next().is_some() {
                    watcher.stop();
                }
            })?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_a_parent_stops_its_children_and_not_the_reverse() {
        let root = StopToken::new();
        let child = root.child();
        let grandchild = child.child();
        grandchild.stop();
        assert!(grandchild.is_stopped() && !child.is_stopped() && !root.is_stopped());
        let other = child.child();
        root.stop();
        assert!(child.is_stopped() && other.is_stopped());
        assert!(
            root.child().is_stopped(),
            "a child of a stopped token starts stopped"
        );
    }

    #[test]
    fn a_wait_ends_when_stopped_not_at_its_timeout() {
        let token = StopToken::new();
        let waiter = {
            let token = token.clone();
            std::thread::spawn(move || token.wait_timeout(Duration::from_secs(600)))
        };
        token.stop();
        assert!(waiter.join().expect("waiter"), "the wait saw the stop");
        assert!(!StopToken::new().wait_timeout(Duration::from_millis(1)));
    }
}
