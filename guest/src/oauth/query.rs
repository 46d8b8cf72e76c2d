//! Percent-encoding for URL queries, as the Codex CLI writes them, and
//! form-style decoding for what comes back.

use crate::oauth::pkce::is_unreserved;

/// Encodes every byte outside RFC 3986's unreserved set (spaces as `%20`).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `k=v&k=v` with every key and value encoded.
pub fn build<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(k));
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// Decodes `application/x-www-form-urlencoded` pairs. Invalid escapes are
/// kept literally and invalid UTF-8 is replaced, so decoding never fails.
pub fn parse(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The first value of `key` in decoded `pairs`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex_at(bytes, i + 1), hex_at(bytes, i + 2)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_at(bytes: &[u8], i: usize) -> Option<u8> {
    bytes.get(i).and_then(|&b| char::from(b).to_digit(16)).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_codex_cli() {
        assert_eq!(encode("openid profile"), "openid%20profile");
        assert_eq!(encode("http://localhost:1455/a"), "http%3A%2F%2Flocalhost%3A1455%2Fa");
        assert_eq!(encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn decodes_forms_leniently() {
        let pairs = parse("code=a%2Bb+c&state=x&&flag&bad=%zz%4");
        assert_eq!(get(&pairs, "code"), Some("a+b c"));
        assert_eq!(get(&pairs, "state"), Some("x"));
        assert_eq!(get(&pairs, "flag"), Some(""));
        assert_eq!(get(&pairs, "bad"), Some("%zz%4"));
        assert_eq!(get(&parse("x=%FF"), "x"), Some("\u{FFFD}"));
    }

    #[test]
    fn round_trips() {
        let text = "a b&c=d/é%";
        assert_eq!(get(&parse(&build([("k", text)])), "k"), Some(text));
    }
}
