//! The account an [`Auth`](crate::Auth)'s calls use, as the guest chose it:
//! chosen once, then reused until something may change the choice (a
//! block, a sign-in, a pin, a removal), when it is forgotten and the guest
//! is asked again. The choice is the guest's; this only remembers it.

use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct Selection(Mutex<Option<String>>);

impl Selection {
    /// The remembered choice, if any; looking chooses nothing.
    pub fn peek(&self) -> Option<String> {
        self.lock().clone()
    }

    /// The remembered choice, else what `choose` says (remembered when it
    /// is a choice; an error is not remembered, so the next call asks again).
    /// One chooser at a time: callers racing here share one choice.
    pub fn get_or_choose<E>(&self, choose: impl FnOnce() -> Result<String, E>) -> Result<String, E> {
        let mut selected = self.lock();
        if let Some(name) = selected.as_ref() {
            return Ok(name.clone());
        }
        Ok(selected.insert(choose()?).clone())
    }

    /// Forgets the choice: the next call asks the guest again.
    pub fn forget(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_choice_is_made_once_and_again_only_after_it_is_forgotten() {
        let selection = Selection::default();
        let asked = Cell::new(0);
        let choose = |name: &str| {
            asked.set(asked.get() + 1);
            Ok::<_, ()>(name.to_owned())
        };
        assert_eq!(selection.peek(), None, "nothing chosen yet, and peeking chooses nothing");
        assert_eq!(selection.get_or_choose(|| choose("a")), Ok("a".into()));
        assert_eq!(selection.get_or_choose(|| choose("b")), Ok("a".into()), "remembered");
        assert_eq!((selection.peek(), asked.get()), (Some("a".into()), 1));
        selection.forget();
        assert_eq!(selection.get_or_choose(|| choose("b")), Ok("b".into()), "asked again");
        assert_eq!(asked.get(), 2);
    }

    #[test]
    fn a_failed_choice_is_not_remembered() {
        let selection = Selection::default();
        assert_eq!(selection.get_or_choose(|| Err::<String, _>("all blocked")), Err("all blocked"));
        assert_eq!(selection.peek(), None);
        assert_eq!(selection.get_or_choose(|| Ok::<_, &str>("a".into())), Ok("a".into()));
    }

    #[test]
    fn racing_callers_share_one_choice() {
        let selection = Selection::default();
        let asked = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for i in 0..8 {
                let (selection, asked) = (&selection, &asked);
                s.spawn(move || {
                    selection.get_or_choose(|| {
                        asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Ok::<_, ()>(format!("account-{i}"))
                    })
                });
            }
        });
        assert_eq!(asked.into_inner(), 1);
        assert!(selection.peek().is_some());
    }
}
