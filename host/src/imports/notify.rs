use crate::bindings::notify::{Event, Host};
use crate::notifier::LoginEvent;
use crate::state::HostState;

impl Host for HostState {
    fn emit(&mut self, event: Event) {
        let event = match event {
            Event::OpenUrl(url) => LoginEvent::OpenUrl(url),
            Event::DeviceCode(p) => LoginEvent::DeviceCode {
                user_code: p.user_code,
                verification_url: p.verification_url,
                expires_in: p.expires_in,
            },
            Event::MethodChosen(why) => LoginEvent::MethodChosen(why),
            Event::Waiting(left) => LoginEvent::Waiting(left),
            Event::Rejected(why) => LoginEvent::Rejected(why),
            Event::Info(line) => LoginEvent::Info(line),
            Event::AccountDisabled(d) => LoginEvent::AccountDisabled { account: d.account, reason: d.reason },
            Event::AccountBlocked(b) => LoginEvent::AccountBlocked { account: b.account, until: b.until },
            Event::PeerRefreshed(account) => LoginEvent::PeerRefreshed { account },
            Event::Refreshed(r) => LoginEvent::Refreshed { account: r.account, outcome: r.outcome },
        };
        self.shared.notify(event);
    }

    fn open_browser(&mut self, url: String) -> Result<(), String> {
        self.shared.notifier.open_browser(&url)
    }

    fn ask(&mut self, prompt: String) -> Result<String, String> {
        self.shared.notifier.ask(&prompt)
    }
}
