//! What the gateway holds of an answer before any of it goes out, so that
//! a usage limit in it (`response.failed`) can still move the request to a
//! sibling:
//! - a whole answer's stream (its client gets nothing before the end);
//! - a stream's opening: while it shows only the events a Responses stream
//!   opens with (`response.created`, `response.in_progress`...; the guest
//!   names them, and how long and how much to hold:
//!   `openai.stream-opening`). They say only that the response exists, so
//!   holding them costs the client nothing. The backend sends
//!   `response.created` on its own, so without the hold a limit after it
//!   always came too late.

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
pub(crate) async fn opening<E>(
    hold: &OpeningHold,
    first: Option<Result<Bytes, E>>,
    rest: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
    sse: bool,
) -> (Vec<Result<Bytes, E>>, Shown) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(hold.most_ms.into());
    let (mut held, mut head) = (Vec::new(), Head::new(hold));
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

/// A whole answer's stream as read before any of it goes out.
pub(crate) struct Whole<E> {
    pub kept: Bytes,
    /// Why the stream broke off, if it did.
    pub broke: Option<E>,
    /// The stream was read to its end (else `most` bytes were kept, and the
    /// rest is still to read).
    pub ended: bool,
}

/// A whole answer (its client gets nothing before the end, so nothing has
/// gone out): read from its `first` piece to its end, or to `most` bytes.
pub(crate) async fn whole<E>(
    first: Option<Result<Bytes, E>>,
    rest: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
    most: usize,
) -> Whole<E> {
    let mut kept = bytes::BytesMut::new();
    let mut next = first;
    while let Some(piece) = next {
        match piece {
            Ok(piece) => kept.extend_from_slice(&piece),
            Err(e) => return Whole { kept: kept.freeze(), broke: Some(e), ended: true },
        }
        if kept.len() >= most {
            return Whole { kept: kept.freeze(), broke: None, ended: false };
        }
        next = rest.next().await;
    }
    Whole { kept: kept.freeze(), broke: None, ended: true }
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

    fn guest_hold() -> OpeningHold {
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
        let hold = guest_hold();
        let mut head = Head::new(&hold);
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
        let hold = guest_hold();
        let mut head = Head::new(&hold);
        assert_eq!(head.look(event("response.created").as_bytes()), Shown::Opening);
        let long = format!("event: response.in_progress\ndata: \"{}", "x".repeat(MOST_BYTES as usize));
        assert_eq!(head.look(long.as_bytes()), Shown::More);
    }

    type Piece = Result<Bytes, ()>;

    fn piece(text: &str) -> Piece {
        Ok(Bytes::from(text.to_owned()))
    }

    #[tokio::test]
    async fn a_whole_answer_is_read_to_its_end_or_its_bound_and_the_rest_left_to_read() {
        let pieces = || futures_util::stream::iter(["ab", "cd", "ef"].map(piece));
        let mut rest = pieces();
        let read = whole(rest.next().await, &mut rest, 1 << 10).await;
        assert_eq!((&read.kept[..], read.broke, read.ended), (&b"abcdef"[..], None, true));
        let mut rest = pieces();
        let read = whole(rest.next().await, &mut rest, 3).await;
        assert_eq!((&read.kept[..], read.ended), (&b"abcd"[..], false));
        assert_eq!(rest.next().await, Some(piece("ef")));
        let mut broken = futures_util::stream::iter([piece("ab"), Err(())]);
        let read = whole(broken.next().await, &mut broken, 1 << 10).await;
        assert_eq!((&read.kept[..], read.broke, read.ended), (&b"ab"[..], Some(()), true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_is_held_no_longer_than_the_guest_says() {
        let hold = guest_hold();
        let started = tokio::time::Instant::now();
        // The backend opened the response and has said nothing since.
        let mut silent = futures_util::stream::pending::<Piece>();
        let first = Some(piece(&event("response.created")));
        let (held, shown) = opening(&hold, first, &mut silent, true).await;
        assert_eq!((held.len(), shown), (1, Shown::More));
        assert_eq!(started.elapsed(), Duration::from_millis(1_000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_after_the_opening_is_held_with_it_and_the_rest_is_left_to_read() {
        let hold = guest_hold();
        let later = [event("response.in_progress"), event("response.failed"), event("response.completed")];
        let mut rest = futures_util::stream::iter(later.map(|e| piece(&e)));
        let (held, shown) = opening(&hold, Some(piece(&event("response.created"))), &mut rest, true).await;
        assert_eq!((held.len(), shown), (3, Shown::Failed));
        assert_eq!(rest.next().await, Some(piece(&event("response.completed"))));
        // Not SSE, or a broken piece: nothing is held.
        let mut none = futures_util::stream::pending::<Piece>();
        assert_eq!(
            opening(&hold, Some(piece(&event("response.created"))), &mut none, false).await.1,
            Shown::More
        );
        assert_eq!(opening(&hold, Some(Err(())), &mut none, true).await.1, Shown::More);
    }
}
