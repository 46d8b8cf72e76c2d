//! The head of an answer's stream, held back while it shows only the
//! events a Responses stream opens with (`response.created`,
//! `response.in_progress`...; the guest names them, and how long and how
//! much to hold: `openai.stream-opening`). Those say that the response
//! exists, nothing a client could use yet, so holding them costs the client
//! nothing; and a usage limit the backend sends after them
//! (`response.failed`) can still move the request to a sibling, because no
//! byte of the answer has gone out. The backend flushes `response.created`
//! on its own, so without the hold such a limit always came too late.

use bytes::Bytes;
use codex_auth::openai::OpeningHold;
use futures_util::{Stream, StreamExt as _};
use std::time::Duration;

/// What a stream's head has shown so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Only opening events, and perhaps the start of another line: hold on.
    Opening,
    /// A `response.failed` event: the guest says what it means.
    Failed,
    /// Anything else (output, an event without a name, too much held): the
    /// stream goes on to the client.
    More,
}

/// The head of an answer from its `first` piece, read on while an SSE
/// stream shows only opening events, for at most the guest's time and
/// bytes; and what it showed.
pub(crate) async fn hold<E>(
    opening: &OpeningHold,
    first: Option<Result<Bytes, E>>,
    rest: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
    sse: bool,
) -> (Vec<Result<Bytes, E>>, Shown) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(opening.most_ms.into());
    let (mut held, mut head) = (Vec::new(), Head::new(opening));
    let (mut next, mut shown) = (first, Shown::More);
    while let Some(piece) = next {
        shown = match &piece {
            Ok(piece) if sse => head.look(piece),
            _ => Shown::More,
        };
        held.push(piece);
        if shown != Shown::Opening {
            break;
        }
        // A piece not yet come is not lost: the next read gets it.
        let Ok(piece) = tokio::time::timeout_at(deadline, rest.next()).await else {
            return (held, Shown::More);
        };
        next = piece;
    }
    (held, shown)
}

/// Reads a stream's head line by line, piece by piece.
pub(crate) struct Head<'a> {
    opening: &'a OpeningHold,
    /// A line not yet ended.
    line: Vec<u8>,
    /// The event being read has an opening name.
    named: bool,
    held: usize,
}

impl<'a> Head<'a> {
    pub(crate) fn new(opening: &'a OpeningHold) -> Self {
        Self { opening, line: Vec::new(), named: false, held: 0 }
    }

    /// What the head shows with `chunk`, the next piece of the stream.
    pub(crate) fn look(&mut self, chunk: &[u8]) -> Shown {
        self.held += chunk.len();
        let mut rest = chunk;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let shown = if self.line.is_empty() {
                self.shown_by(&rest[..end])
            } else {
                self.line.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut self.line);
                self.shown_by(&line)
            };
            if shown != Shown::Opening {
                return shown;
            }
            rest = &rest[end + 1..];
        }
        self.line.extend_from_slice(rest);
        if self.held > self.opening.most_bytes as usize { Shown::More } else { Shown::Opening }
    }

    /// What one whole line shows (the Responses API names each event in
    /// an `event:` line before its data).
    fn shown_by(&mut self, line: &[u8]) -> Shown {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            // The event ends.
            self.named = false;
        } else if let Some(name) = line.strip_prefix(b"event:") {
            let name = name.trim_ascii();
            if name == b"response.failed" {
                return Shown::Failed;
            }
            if !self.opening.events.iter().any(|opening| opening.as_bytes() == name) {
                return Shown::More;
            }
            self.named = true;
        } else if line.starts_with(b"data:") && !self.named {
            return Shown::More;
        }
        Shown::Opening
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOST_BYTES: u32 = 64 << 10;

    fn opening() -> OpeningHold {
        let events = ["response.created", "response.in_progress"].map(str::to_owned).to_vec();
        OpeningHold { events, most_ms: 1_000, most_bytes: MOST_BYTES }
    }

    fn event(name: &str) -> String {
        format!(
            "event: {name}\ndata: {{\"type\": \"{name}\", \"response\": {{\"instructions\": \"...\"}}}}\n\n"
        )
    }

    /// What the head shows after each piece of `stream` cut every `size`
    /// bytes, up to the first piece that ends the hold.
    fn shown(stream: &str, size: usize) -> Vec<Shown> {
        let opening = opening();
        let mut head = Head::new(&opening);
        let mut shown = Vec::new();
        for piece in stream.as_bytes().chunks(size) {
            shown.push(head.look(piece));
            if shown.last() != Some(&Shown::Opening) {
                break;
            }
        }
        shown
    }

    #[test]
    fn opening_events_are_held_and_a_failure_after_them_is_seen_wherever_the_stream_is_cut() {
        let stream =
            [event("response.created"), event("response.in_progress"), event("response.failed")].concat();
        for size in 1..=stream.len() {
            let shown = shown(&stream, size);
            let (last, before) = shown.split_last().unwrap();
            assert_eq!(*last, Shown::Failed, "cut every {size}");
            assert!(before.iter().all(|s| *s == Shown::Opening), "cut every {size}: {shown:?}");
        }
        let crlf = stream.replace('\n', "\r\n");
        assert_eq!(shown(&crlf, 7).last(), Some(&Shown::Failed));
    }

    #[test]
    fn output_or_an_event_without_a_name_lets_the_stream_go_on() {
        let output =
            [event("response.created"), event("response.output_item.added"), event("response.failed")]
                .concat();
        assert_eq!(shown(&output, output.len()), [Shown::More]);
        // The first output is seen as soon as its name is whole.
        let at = output.find("response.output_item.added").unwrap() + "response.output_item.added\n".len();
        assert_eq!(shown(&output[..at], at), [Shown::More]);
        assert_eq!(shown(&output[..at - 1], at - 1), [Shown::Opening]);
        let unnamed = "data: {\"type\": \"response.created\"}\n\n";
        assert_eq!(shown(unnamed, unnamed.len()), [Shown::More]);
        let comment = format!(": keep-alive\n\n{}", event("response.created"));
        assert_eq!(shown(&comment, comment.len()), [Shown::Opening]);
    }

    #[test]
    fn no_more_than_the_bound_is_held() {
        let opening = opening();
        let mut head = Head::new(&opening);
        assert_eq!(head.look(event("response.created").as_bytes()), Shown::Opening);
        let long = format!("event: response.in_progress\ndata: \"{}", "x".repeat(MOST_BYTES as usize));
        assert_eq!(head.look(long.as_bytes()), Shown::More);
    }

    type Piece = Result<Bytes, ()>;

    fn piece(text: &str) -> Piece {
        Ok(Bytes::from(text.to_owned()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_is_held_no_longer_than_the_guest_says() {
        let opening = opening();
        let started = tokio::time::Instant::now();
        // The backend opened the response and has said nothing since.
        let mut silent = futures_util::stream::pending::<Piece>();
        let first = Some(piece(&event("response.created")));
        let (held, shown) = hold(&opening, first, &mut silent, true).await;
        assert_eq!((held.len(), shown), (1, Shown::More));
        assert_eq!(started.elapsed(), Duration::from_millis(1_000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_after_the_opening_is_held_with_it_and_the_rest_is_left_to_read() {
        let opening = opening();
        let later = [event("response.in_progress"), event("response.failed"), event("response.completed")];
        let mut rest = futures_util::stream::iter(later.map(|e| piece(&e)));
        let (held, shown) = hold(&opening, Some(piece(&event("response.created"))), &mut rest, true).await;
        assert_eq!((held.len(), shown), (3, Shown::Failed));
        assert_eq!(rest.next().await, Some(piece(&event("response.completed"))));
        // Not SSE, or a broken piece: nothing is held.
        let mut none = futures_util::stream::pending::<Piece>();
        assert_eq!(
            hold(&opening, Some(piece(&event("response.created"))), &mut none, false).await.1,
            Shown::More
        );
        assert_eq!(hold(&opening, Some(Err(())), &mut none, true).await.1, Shown::More);
    }
}
