//! Server-sent events (the WHATWG `text/event-stream` format) as the
//! backend sends them: an event may arrive split across any number of
//! chunks, or many in one; lines end in LF, CRLF or CR.

/// The longest event kept while waiting for its end. The backend's last
/// event carries the whole answer, so this is generous; past it the stream
/// is not one this gateway can read.
pub const MAX_EVENT: usize = 32 << 20;

/// One event: its `event:` name (empty when it has none) and its `data:`
/// lines joined by LF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// Events framed from a stream, chunk by chunk.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes of lines not yet ended.
    pending: Vec<u8>,
    /// The event being read: its name and data lines so far.
    name: String,
    data: Option<String>,
    /// The last chunk ended in CR: an LF first in the next one ends nothing.
    after_cr: bool,
}

/// The stream holds an event longer than [`MAX_EVENT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

impl Framer {
    /// The events that `chunk` completes, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, TooLong> {
        let mut events = Vec::new();
        let mut rest = chunk;
        if chunk.is_empty() {
            return Ok(events);
        }
        if self.after_cr && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        self.after_cr = false;
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = if self.pending.is_empty() {
                String::from_utf8_lossy(&rest[..end]).into_owned()
            } else {
                self.pending.extend_from_slice(&rest[..end]);
                String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()
            };
            let crlf = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if crlf {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            self.line(&line, &mut events);
        }
        self.pending.extend_from_slice(rest);
        let held = self.pending.len() + self.data.as_ref().map_or(0, String::len);
        if held > MAX_EVENT { Err(TooLong) } else { Ok(events) }
    }

    /// The event left without its closing blank line when the stream ended
    /// (a well-formed stream leaves none).
    pub fn finish(&mut self) -> Option<Event> {
        let mut events = Vec::new();
        if !self.pending.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned();
            self.line(&line, &mut events);
        }
        self.line("", &mut events);
        events.pop()
    }

    fn line(&mut self, line: &str, events: &mut Vec<Event>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                events.push(Event { name: std::mem::take(&mut self.name), data });
            }
            self.name.clear();
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.name),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

/// One event as SSE: `data: <json>` and a blank line, with `event:` first
/// when it has a name.
pub fn encode(name: Option<&str>, data: &str, out: &mut Vec<u8>) {
    if let Some(name) = name {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event { name: name.into(), data: data.into() }
    }

    #[test]
    fn events_split_anywhere_come_out_whole_and_in_order() {
        let stream =
            b"event: a\ndata: {\"x\":1}\n\n: comment\ndata: one\ndata: two\n\nevent: b\r\ndata:tight\r\n\r\n";
        let whole = Framer::default().push(stream).unwrap();
        assert_eq!(whole, vec![event("a", "{\"x\":1}"), event("", "one\ntwo"), event("b", "tight")]);
        for cut in 0..stream.len() {
            for second in cut..stream.len() {
                let mut framer = Framer::default();
                let mut got = framer.push(&stream[..cut]).unwrap();
                got.extend(framer.push(&stream[cut..second]).unwrap());
                got.extend(framer.push(&stream[second..]).unwrap());
                assert_eq!(got, whole, "cut at {cut} and {second}");
            }
        }
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_a_missing_last_blank_line_is_found_at_the_end() {
        let mut framer = Framer::default();
        assert_eq!(framer.push(b"data: a\r\rdata: b").unwrap(), vec![event("", "a")]);
        assert_eq!(framer.finish(), Some(event("", "b")));
        assert_eq!(framer.finish(), None);
    }

    #[test]
    fn an_endless_event_is_refused_instead_of_held() {
        let mut framer = Framer::default();
        let line = vec![b'x'; 1 << 20];
        let mut result = Ok(vec![]);
        for _ in 0..40 {
            result = framer.push(&line);
        }
        assert_eq!(result, Err(TooLong));
    }

    #[test]
    fn encoding_puts_each_line_of_data_on_its_own_data_field() {
        let mut out = Vec::new();
        encode(Some("e"), "a\nb", &mut out);
        encode(None, "[DONE]", &mut out);
        assert_eq!(out, b"event: e\ndata: a\ndata: b\n\ndata: [DONE]\n\n");
        assert_eq!(Framer::default().push(&out).unwrap(), vec![event("e", "a\nb"), event("", "[DONE]")]);
    }
}
