//! When to try a store connection again after one failed: at once the first
//! time, then after waits that double up to a cap, so that a server that is
//! down is not asked by every call (each attempt can take up to the connect
//! timeout when the network drops packets) and is found again soon after it
//! returns. A success starts over.

use std::time::{Duration, Instant};

/// The first wait after a failure.
const FIRST: Duration = Duration::from_millis(100);
/// The longest wait: a returning server is found within this (no longer
/// than the guest's pause between tries to write rotated tokens).
const CAP: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub(crate) struct Reconnect {
    /// After a failure: when the next attempt may be made, the wait that
    /// led there, and why the last attempt failed.
    failing: Option<(Instant, Duration, String)>,
}

impl Reconnect {
    /// `Ok` when an attempt may be made now; else why the last one failed
    /// and how long until the next.
    pub fn ready(&self, now: Instant) -> Result<(), (String, Duration)> {
        match &self.failing {
            Some((next, _, why)) if now < *next => Err((why.clone(), *next - now)),
            _ => Ok(()),
        }
    }

    pub fn failed(&mut self, now: Instant, why: String) {
        let wait = match &self.failing {
            Some((_, wait, _)) => (*wait * 2).min(CAP),
            None => FIRST,
        };
        self.failing = Some((now + wait, wait, why));
    }

    pub fn succeeded(&mut self) {
        self.failing = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_a_success_starts_over() {
        let start = Instant::now();
        let mut r = Reconnect::default();
        assert_eq!(r.ready(start), Ok(()), "the first attempt is never held back");
        let mut now = start;
        let mut waits = Vec::new();
        for _ in 0..7 {
            r.failed(now, "refused".into());
            let (why, wait) = r.ready(now).unwrap_err();
            assert_eq!(why, "refused");
            waits.push(wait.as_millis());
            assert!(r.ready(now + wait - Duration::from_millis(1)).is_err(), "held back until then");
            now += wait;
            assert_eq!(r.ready(now), Ok(()), "and tried again then");
        }
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2000, 2000]);
        r.succeeded();
        r.failed(now, "refused".into());
        assert_eq!(r.ready(now).unwrap_err().1, FIRST);
    }
}
