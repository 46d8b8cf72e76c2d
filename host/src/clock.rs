//! Wall-clock time as the guest sees it, injectable so tests can fix it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The guest's clock. Implementations must be cheap: `now_ms` is called on
/// every token and header request.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Blocks the calling thread for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}
