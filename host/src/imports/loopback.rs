use crate::bindings::loopback::{BindError, Host, Incoming};
use crate::state::{HostState, Listener};
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

impl Host for HostState {
    fn bind(&mut self, port: u16) -> Result<(), BindError> {
        self.listener = None;
        // Loopback only: the redirect carries an authorization code.
        let socket = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse => BindError::InUse,
            _ => BindError::Other(format!("cannot listen on 127.0.0.1:{port}: {e}")),
        })?;
        let server = tiny_http::Server::from_listener(socket, None)
            .map_err(|e| BindError::Other(format!("cannot serve on 127.0.0.1:{port}: {e}")))?;
        self.listener = Some(Listener { server, pending: HashMap::new(), next_id: 0 });
        Ok(())
    }

    fn accept(&mut self, timeout_ms: u32) -> Result<Option<Incoming>, String> {
        let listener = self.listener.as_mut().ok_or("no loopback listener is bound")?;
        let request = listener
            .server
            .recv_timeout(Duration::from_millis(u64::from(timeout_ms)))
            .map_err(|e| format!("the loopback listener failed: {e}"))?;
        Ok(request.map(|request| {
            listener.next_id += 1;
            let incoming = Incoming {
                id: listener.next_id,
                method: request.method().as_str().to_owned(),
                target: request.url().to_owned(),
            };
            listener.pending.insert(listener.next_id, request);
            incoming
        }))
    }

    fn respond(&mut self, id: u64, status: u16, content_type: String, body: Vec<u8>) {
        let Some(request) = self.listener.as_mut().and_then(|l| l.pending.remove(&id)) else {
            return;
        };
        let mut response = tiny_http::Response::from_data(body).with_status_code(status);
        if let Ok(header) = tiny_http::Header::from_bytes("Content-Type", content_type.as_bytes()) {
            response.add_header(header);
        }
        // The browser may have gone; nothing to do about it.
        let _ = request.respond(response);
    }

    fn close(&mut self) {
        self.listener = None;
    }
}
