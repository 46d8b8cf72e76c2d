//! An in-memory [`Platform`] for native tests: a store, a clock that moves
//! only when told, a scripted issuer and a recorded trail of notices.

use crate::platform::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

#[derive(Default)]
pub struct Fake {
    pub now_ms: Cell<i64>,
    pub env: RefCell<HashMap<String, String>>,
    pub file: RefCell<Option<Vec<u8>>>,
    pub saves: Cell<u32>,
    pub locked: Cell<bool>,
    pub lock_error: RefCell<Option<StorageError>>,
    pub requests: RefCell<Vec<HttpRequest>>,
    pub responses: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    pub incoming: RefCell<VecDeque<Option<Incoming>>>,
    pub replies: RefCell<Vec<(u64, u16)>>,
    pub notices: RefCell<Vec<Notice>>,
    pub slept_ms: RefCell<Vec<u64>>,
    pub bind_errors: RefCell<VecDeque<BindError>>,
    pub answers: RefCell<VecDeque<String>>,
    /// Written over the store when the next request is sent: a peer that
    /// refreshes while this request is in flight.
    pub peer_write_on_send: RefCell<Option<Vec<u8>>>,
}

impl Fake {
    pub fn with_file(bytes: &[u8]) -> Self {
        let fake = Self::default();
        fake.file.replace(Some(bytes.to_vec()));
        fake
    }
}

impl Platform for Fake {
    fn now_ms(&self) -> i64 {
        self.now_ms.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.slept_ms.borrow_mut().push(ms);
        self.now_ms.set(self.now_ms.get() + ms as i64);
    }
    fn env_var(&self, name: &str) -> Option<String> {
        self.env.borrow().get(name).cloned()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
    }
    fn store_location(&self) -> String {
        "/fake/auth.json".into()
    }
    fn load(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.file.borrow().clone())
    }
    fn save(&self, contents: &[u8]) -> Result<(), StorageError> {
        assert!(self.locked.get(), "saved without the store lock");
        self.saves.set(self.saves.get() + 1);
        self.file.replace(Some(contents.to_vec()));
        Ok(())
    }
    fn remove(&self) -> Result<bool, StorageError> {
        Ok(self.file.replace(None).is_some())
    }
    fn lock(&self, _timeout_ms: u32) -> Result<(), StorageError> {
        if let Some(e) = self.lock_error.borrow().clone() {
            return Err(e);
        }
        assert!(!self.locked.replace(true), "lock taken twice");
        Ok(())
    }
    fn unlock(&self) {
        self.locked.set(false);
    }
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(request.clone());
        if let Some(bytes) = self.peer_write_on_send.borrow_mut().take() {
            self.file.replace(Some(bytes));
        }
        self.responses.borrow_mut().pop_front().expect("an unscripted HTTP request")
    }
    fn bind(&self, _port: u16) -> Result<(), BindError> {
        self.bind_errors.borrow_mut().pop_front().map_or(Ok(()), Err)
    }
    fn accept(&self, timeout_ms: u32) -> Result<Option<Incoming>, String> {
        match self.incoming.borrow_mut().pop_front() {
            Some(request) => Ok(request),
            None => {
                self.now_ms.set(self.now_ms.get() + i64::from(timeout_ms));
                Ok(None)
            }
        }
    }
    fn respond(&self, id: u64, status: u16, _content_type: &str, _body: &[u8]) {
        self.replies.borrow_mut().push((id, status));
    }
    fn close_listener(&self) {}
    fn notify(&self, notice: Notice) {
        self.notices.borrow_mut().push(notice);
    }
    fn open_browser(&self, _url: &str) -> Result<(), String> {
        Ok(())
    }
    fn ask(&self, _prompt: &str) -> Result<String, String> {
        self.answers.borrow_mut().pop_front().ok_or_else(|| "end of input".to_owned())
    }
}
