//! What a gateway does with an upstream answer: pass it on, or send the
//! request again after recovering the token or moving to another account.
//! Each at most once per request, and only when the request's body was kept
//! (a streamed body cannot be sent twice).

/// Where one request stands when an answer comes back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// The request's body was kept whole, so it can be sent again.
    pub replayable: bool,
    /// A 401 was already recovered from for this request.
    pub recovered: bool,
    /// The request already moved to another account once.
    pub rotated: bool,
}

impl Attempt {
    /// A request's first send, its body kept.
    pub const FIRST: Self = Self { replayable: true, recovered: false, rotated: false };

    /// The attempt after acting on `verdict`.
    pub fn after(self, verdict: Verdict) -> Self {
        match verdict {
            Verdict::PassOn => self,
            Verdict::RecoverAndReplay => Self { recovered: true, ..self },
            Verdict::RotateAndReplay => Self { rotated: true, ..self },
        }
    }
}

/// What to do with an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the answer to the client as it is.
    PassOn,
    /// A 401: recover the account's token (`unauthorized`), then send the
    /// request again; when the recovery fails, pass the 401 on.
    RecoverAndReplay,
    /// A usage limit blocked the account: send the request again, to the
    /// account the pool chooses now.
    RotateAndReplay,
}

/// The verdict on an answer that was a 401 (`unauthorized`), or that
/// blocked its account by a usage limit (`blocked`).
pub fn verdict(unauthorized: bool, blocked: bool, attempt: Attempt) -> Verdict {
    if !attempt.replayable {
        Verdict::PassOn
    } else if unauthorized && !attempt.recovered {
        Verdict::RecoverAndReplay
    } else if blocked && !attempt.rotated {
        Verdict::RotateAndReplay
    } else {
        Verdict::PassOn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_is_recovered_once_and_a_limit_rotates_once() {
        let mut attempt = Attempt::FIRST;
        let first = verdict(true, false, attempt);
        assert_eq!(first, Verdict::RecoverAndReplay);
        attempt = attempt.after(first);
        assert_eq!(verdict(true, false, attempt), Verdict::PassOn, "a second 401 is passed on");
        let limit = verdict(false, true, attempt);
        assert_eq!(limit, Verdict::RotateAndReplay, "a limit after a recovery still rotates");
        attempt = attempt.after(limit);
        assert_eq!(verdict(false, true, attempt), Verdict::PassOn, "only one rotation");
        assert_eq!(verdict(false, false, Attempt::FIRST), Verdict::PassOn);
    }

    #[test]
    fn a_body_that_was_not_kept_is_never_replayed() {
        let streamed = Attempt { replayable: false, ..Attempt::FIRST };
        for (unauthorized, blocked) in [(true, false), (false, true), (true, true)] {
            assert_eq!(verdict(unauthorized, blocked, streamed), Verdict::PassOn);
        }
    }
}
