use crate::bindings::clock::{Host, UnixMillis};
use crate::state::HostState;
use std::time::Duration;

impl Host for HostState {
    fn now(&mut self) -> UnixMillis {
        self.shared.clock.now_ms()
    }

    fn sleep(&mut self, ms: u64) {
        self.shared.clock.sleep(Duration::from_millis(ms));
    }
}
