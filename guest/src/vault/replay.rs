//! What a gateway does with an upstream answer: pass it on, or send the
//! request again after recovering the token (once per request) or on
//! another account (each account at most once per request, until the pool
//! has none left: then `choose` says when the first frees up). Only when the
//! request's body was kept: a streamed body cannot be sent twice.

/// Where one request stands when an answer comes back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// The request's body was kept whole, so it can be sent again.
    pub replayable: bool,
    /// A 401 was already recovered from for this request.
    pub recovered: bool,
    /// The request names its account (`--account`): it never moves.
    pub pinned: bool,
    /// The accounts a usage limit already moved this request away from.
    pub tried: Vec<String>,
    /// The model the request asks for, when the host could read it: a
    /// limit that names no meter blocks this model on the account.
    pub model: Option<String>,
}

impl Attempt {
    /// A request's first send, its body kept, the pool choosing.
    pub const FIRST: Self =
        Self { replayable: true, recovered: false, pinned: false, tried: Vec::new(), model: None };

    /// The attempt after acting on `verdict` for an answer of `account`.
    pub fn after(mut self, verdict: Verdict, account: &str) -> Self {
        match verdict {
            Verdict::PassOn => {}
            Verdict::RecoverAndReplay => self.recovered = true,
            Verdict::RotateAndReplay => self.tried.push(account.to_owned()),
        }
        self
    }
}

wit_enum! {
    /// What to do with an answer.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Verdict {
        /// Hand the answer to the client as it is.
        PassOn,
        /// A 401: recover the account's token (`unauthorized`), then send the
        /// request again; when the recovery fails, pass the 401 on.
        RecoverAndReplay,
        /// A usage limit blocked the account: send the request again, to the
        /// account the pool chooses now (none left: the pool's `all-blocked`).
        RotateAndReplay,
    }
}

/// The verdict on an answer of `account` that was a 401 (`unauthorized`),
/// or that blocked the account by a usage limit (`blocked`).
pub fn verdict(unauthorized: bool, blocked: bool, account: &str, attempt: &Attempt) -> Verdict {
    if !attempt.replayable {
        Verdict::PassOn
    } else if unauthorized && !attempt.recovered {
        Verdict::RecoverAndReplay
    } else if blocked && !attempt.pinned && !attempt.tried.iter().any(|a| a == account) {
        Verdict::RotateAndReplay
    } else {
        Verdict::PassOn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_is_recovered_once_and_limits_rotate_through_every_account_once() {
        let mut attempt = Attempt::FIRST;
        let first = verdict(true, false, "a", &attempt);
        assert_eq!(first, Verdict::RecoverAndReplay);
        attempt = attempt.after(first, "a");
        assert_eq!(verdict(true, false, "a", &attempt), Verdict::PassOn, "a second 401 is passed on");
        for account in ["a", "b", "c"] {
            let limit = verdict(false, true, account, &attempt);
            assert_eq!(limit, Verdict::RotateAndReplay, "{account}: on to the next");
            attempt = attempt.after(limit, account);
        }
        assert_eq!(attempt.tried, ["a", "b", "c"]);
        assert_eq!(verdict(false, true, "b", &attempt), Verdict::PassOn, "never the same account twice");
        assert_eq!(verdict(false, false, "d", &Attempt::FIRST), Verdict::PassOn);
    }

    #[test]
    fn a_body_that_was_not_kept_or_a_named_account_is_never_moved() {
        let streamed = Attempt { replayable: false, ..Attempt::FIRST };
        for (unauthorized, blocked) in [(true, false), (false, true), (true, true)] {
            assert_eq!(verdict(unauthorized, blocked, "a", &streamed), Verdict::PassOn);
        }
        let pinned = Attempt { pinned: true, ..Attempt::FIRST };
        assert_eq!(verdict(false, true, "a", &pinned), Verdict::PassOn);
        assert_eq!(verdict(true, false, "a", &pinned), Verdict::RecoverAndReplay, "a 401 is still recovered");
    }
}
