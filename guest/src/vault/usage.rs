//! What the ChatGPT backend says about an account's usage: the
//! `/wham/usage` answer, the `x-codex-*` rate-limit headers of any answer,
//! and the `usage_limit_reached` error (a 429, or a `response.failed` event
//! inside a stream).
//!
//! Usage is metered: the account's own meter (`codex`, the
//! `x-codex-primary-*` headers and the answer's `rate_limit`) and others,
//! such as one model's own (`x-codex-bengalfox-primary-*` with
//! `x-codex-bengalfox-limit-name: codex_bengalfox`, or an entry of
//! `additional_rate_limits`). Each window says which meter it belongs to.

use crate::openai::sse::Framer;
use serde_json::{Value, json};

/// The account's own meter: every model draws on it.
pub const MAIN_METER: &str = "codex";
/// Meters read from one answer at most; beyond, the rest are ignored.
const MAX_METERS: usize = 16;

/// One rate-limit window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The meter it belongs to: [`MAIN_METER`], or another's limit name.
    pub meter: String,
    /// `primary` or `secondary`.
    pub name: String,
    /// Percent of the window used, 0 to 100.
    pub used_percent: u32,
    /// The window's length.
    pub window_seconds: Option<i64>,
    /// When it resets (Unix seconds).
    pub resets_at: Option<i64>,
}

/// An account's usage as last seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub plan: Option<String>,
    pub windows: Vec<Window>,
    /// The backend says a limit is reached.
    pub limit_reached: bool,
}

impl Usage {
    /// The window of the account's own meter that binds first: the most
    /// used one. (Another meter binds only the models that draw on it.)
    pub fn binding(&self) -> Option<&Window> {
        self.meter_binding(MAIN_METER)
    }

    /// The most used window of `meter`.
    pub fn meter_binding(&self, meter: &str) -> Option<&Window> {
        self.windows.iter().filter(|w| w.meter == meter).max_by_key(|w| w.used_percent)
    }

    /// Percent used of the binding window; `None` when nothing is known.
    pub fn binding_percent(&self) -> Option<u32> {
        self.binding().map(|w| w.used_percent)
    }

    /// Merges what a newer observation knows into this one, window by window.
    pub fn merge(&mut self, newer: Usage) {
        if newer.plan.is_some() {
            self.plan = newer.plan;
        }
        for window in newer.windows {
            match self.windows.iter_mut().find(|w| w.meter == window.meter && w.name == window.name) {
                Some(old) => *old = window,
                None => self.windows.push(window),
            }
        }
        self.limit_reached = newer.limit_reached;
    }

    pub fn to_json(&self) -> Value {
        let windows: Vec<Value> = self
            .windows
            .iter()
            .map(|w| {
                json!({"meter": w.meter, "name": w.name, "used_percent": w.used_percent,
                       "window_seconds": w.window_seconds, "resets_at": w.resets_at})
            })
            .collect();
        json!({"plan": self.plan, "windows": windows, "limit_reached": self.limit_reached})
    }

    pub fn from_json(value: &Value) -> Option<Self> {
        let windows = value["windows"]
            .as_array()?
            .iter()
            .filter_map(|w| {
                Some(Window {
                    // A state written before meters were told apart: the account's own.
                    meter: w["meter"].as_str().unwrap_or(MAIN_METER).to_owned(),
                    name: w["name"].as_str()?.to_owned(),
                    used_percent: percent(&w["used_percent"])?,
                    window_seconds: w["window_seconds"].as_i64(),
                    resets_at: w["resets_at"].as_i64(),
                })
            })
            .collect();
        Some(Self {
            plan: value["plan"].as_str().map(str::to_owned),
            windows,
            limit_reached: value["limit_reached"].as_bool().unwrap_or(false),
        })
    }
}

fn percent(value: &Value) -> Option<u32> {
    let p = value.as_f64().or_else(|| value.as_str()?.trim().parse().ok())?;
    p.is_finite().then(|| p.clamp(0.0, 100.0).round() as u32)
}

/// Parses a `GET /wham/usage` answer body; `now` turns relative resets
/// into instants.
pub fn parse_usage(body: &[u8], now: i64) -> Result<Usage, String> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| format!("the usage answer is not JSON ({e})"))?;
    let limits = &root["rate_limit"];
    if !root.is_object() || !(limits.is_object() || limits.is_null()) {
        return Err("the usage answer has no rate_limit object".into());
    }
    let mut windows = limit_windows(MAIN_METER, limits, now);
    let others = root["additional_rate_limits"].as_array().map(Vec::as_slice).unwrap_or_default();
    for other in others.iter().take(MAX_METERS) {
        let name = other["limit_name"].as_str().or_else(|| other["metered_feature"].as_str());
        if let Some(meter) = name.and_then(meter_name) {
            windows.extend(limit_windows(&meter, &other["rate_limit"], now));
        }
    }
    Ok(Usage {
        plan: root["plan_type"].as_str().map(str::to_owned),
        windows,
        limit_reached: limits["limit_reached"].as_bool().unwrap_or(false)
            || limits["allowed"].as_bool() == Some(false),
    })
}

/// The primary and secondary windows of one meter's `rate_limit` object.
fn limit_windows(meter: &str, limits: &Value, now: i64) -> Vec<Window> {
    let mut windows = Vec::new();
    for name in ["primary", "secondary"] {
        let w = &limits[format!("{name}_window")];
        let Some(used_percent) = percent(&w["used_percent"]) else { continue };
        let resets_at = w["reset_at"]
            .as_i64()
            .or_else(|| w["reset_after_seconds"].as_i64().map(|after| now.saturating_add(after)));
        windows.push(Window {
            meter: meter.to_owned(),
            name: name.into(),
            used_percent,
            window_seconds: w["limit_window_seconds"].as_i64(),
            resets_at,
        });
    }
    windows
}

/// A meter's name as the backend gives it, if it is one: short, and made
/// of letters, digits, `_`, `-` and `.` (it is shown, and kept per account).
fn meter_name(text: &str) -> Option<String> {
    let text = text.trim();
    let fits = (1..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    fits.then(|| text.to_ascii_lowercase())
}

/// The rate-limit headers of an answer, if it has any: `x-codex-primary-*`
/// for the account's own meter, `x-<family>-primary-*` (named by
/// `x-<family>-limit-name`) for each other.
pub fn parse_rate_limit_headers(headers: &[(String, String)]) -> Option<Usage> {
    let get = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
    };
    let mut families: Vec<String> = Vec::new();
    for (name, _) in headers {
        let name = name.to_ascii_lowercase();
        let family = name.strip_prefix("x-").and_then(|rest| {
            rest.strip_suffix("-primary-used-percent")
                .or_else(|| rest.strip_suffix("-secondary-used-percent"))
        });
        if let Some(family) = family.filter(|f| meter_name(f).is_some())
            && !families.iter().any(|f| f == family)
            && families.len() < MAX_METERS
        {
            families.push(family.to_owned());
        }
    }
    let mut windows = Vec::new();
    for family in &families {
        let meter = match family.as_str() {
            "codex" => MAIN_METER.to_owned(),
            _ => get(&format!("x-{family}-limit-name"))
                .and_then(|n| meter_name(&n))
                .unwrap_or_else(|| family.replace('-', "_")),
        };
        for name in ["primary", "secondary"] {
            let Some(used_percent) =
                get(&format!("x-{family}-{name}-used-percent")).and_then(|v| percent(&json!(v)))
            else {
                continue;
            };
            let minutes =
                get(&format!("x-{family}-{name}-window-minutes")).and_then(|v| v.parse::<i64>().ok());
            windows.push(Window {
                meter: meter.clone(),
                name: name.into(),
                used_percent,
                window_seconds: minutes.map(|m| m.saturating_mul(60)),
                resets_at: get(&format!("x-{family}-{name}-reset-at")).and_then(|v| v.parse().ok()),
            });
        }
    }
    (!windows.is_empty()).then_some(Usage { plan: None, windows, limit_reached: false })
}

/// A usage limit was reached: when it frees up, if the answer says, and on
/// which meter, if it names one (`x-codex-active-limit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitReached {
    pub resets_at: Option<i64>,
    pub message: Option<String>,
    pub meter: Option<String>,
}

/// Reads `usage_limit_reached` from an error object (`{"type" or "code":
/// "usage_limit_reached", "resets_at", "resets_in_seconds", "message"}`).
fn limit_in(error: &Value, now: i64) -> Option<LimitReached> {
    let kind = error["type"].as_str().or_else(|| error["code"].as_str())?;
    if kind != "usage_limit_reached" {
        return None;
    }
    let resets_at = error["resets_at"]
        .as_i64()
        .or_else(|| error["resets_in_seconds"].as_i64().map(|s| now.saturating_add(s.max(0))));
    Some(LimitReached { resets_at, message: error["message"].as_str().map(str::to_owned), meter: None })
}

/// A 429 answer: its body `{"error": {"type": "usage_limit_reached", ...}}`,
/// and the meter `x-codex-active-limit` names.
pub fn parse_limit_answer(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    now: i64,
) -> Option<LimitReached> {
    if status != 429 {
        return None;
    }
    let root: Value = serde_json::from_slice(body).ok()?;
    let mut limit = limit_in(&root["error"], now)?;
    limit.meter = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-codex-active-limit"))
        .and_then(|(_, v)| meter_name(v));
    Some(limit)
}

/// The usage limit a stream reports in a `response.failed` event whose
/// `response.error` says `usage_limit_reached`. Takes a piece of the stream
/// (any number of events, as they arrive together: the backend sends
/// `response.created` first, so the failure is seldom alone), or one
/// event's bare JSON data.
pub fn parse_limit_event(stream: &[u8], now: i64) -> Option<LimitReached> {
    let failed = |root: &Value| match root["type"].as_str() {
        Some("response.failed") => limit_in(&root["response"]["error"], now),
        _ => None,
    };
    if stream.trim_ascii_start().starts_with(b"{") {
        return failed(&serde_json::from_slice(stream).ok()?);
    }
    let mut framer = Framer::default();
    let mut events = framer.push(stream).ok()?;
    events.extend(framer.finish());
    events.iter().find_map(|event| failed(&serde_json::from_str(&event.data).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_381_200;

    #[test]
    fn usage_answer_windows_and_relative_resets() {
        let body = json!({
            "plan_type": "pro",
            "rate_limit": {
                "allowed": true, "limit_reached": false,
                "primary_window": {"used_percent": 42, "limit_window_seconds": 18000, "reset_after_seconds": 600},
                "secondary_window": {"used_percent": 87.6, "limit_window_seconds": 604800, "reset_at": NOW + 86400}
            }
        });
        let usage = parse_usage(body.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(usage.plan.as_deref(), Some("pro"));
        assert_eq!(
            usage.windows[0],
            Window {
                meter: MAIN_METER.into(),
                name: "primary".into(),
                used_percent: 42,
                window_seconds: Some(18000),
                resets_at: Some(NOW + 600)
            }
        );
        assert_eq!(usage.windows[1].used_percent, 88);
        assert_eq!(usage.binding().unwrap().name, "secondary");
        assert_eq!(Usage::from_json(&usage.to_json()), Some(usage));
        assert!(parse_usage(b"[1]", NOW).is_err());
        assert!(parse_usage(b"{\"rate_limit\": 3}", NOW).is_err());
        let blocked = json!({"rate_limit": {"allowed": false}});
        assert!(parse_usage(blocked.to_string().as_bytes(), NOW).unwrap().limit_reached);
    }

    #[test]
    fn rate_limit_headers() {
        let headers = [
            ("X-Codex-Primary-Used-Percent".to_owned(), "12.5".to_owned()),
            ("x-codex-primary-window-minutes".to_owned(), "300".to_owned()),
            ("x-codex-primary-reset-at".to_owned(), format!("{}", NOW + 60)),
            ("content-type".to_owned(), "text/event-stream".to_owned()),
        ];
        let usage = parse_rate_limit_headers(&headers).unwrap();
        assert_eq!(
            usage.windows,
            [Window {
                meter: MAIN_METER.into(),
                name: "primary".into(),
                used_percent: 13,
                window_seconds: Some(18000),
                resets_at: Some(NOW + 60)
            }]
        );
        assert_eq!(parse_rate_limit_headers(&headers[3..]), None);
        let mut known = Usage { plan: Some("plus".into()), ..usage.clone() };
        known.windows.push(Window {
            meter: MAIN_METER.into(),
            name: "secondary".into(),
            used_percent: 50,
            window_seconds: None,
            resets_at: None,
        });
        known.merge(Usage {
            windows: vec![Window { used_percent: 70, ..usage.windows[0].clone() }],
            ..Usage::default()
        });
        assert_eq!((known.windows[0].used_percent, known.windows[1].used_percent), (70, 50));
        assert_eq!(known.plan.as_deref(), Some("plus"));
    }

    #[test]
    fn usage_limit_in_an_answer_and_in_a_stream() {
        let answer =
            json!({"error": {"type": "usage_limit_reached", "message": "limit", "resets_in_seconds": 120}});
        let limit = parse_limit_answer(429, &[], answer.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(limit.resets_at, Some(NOW + 120));
        assert_eq!(parse_limit_answer(500, &[], answer.to_string().as_bytes(), NOW), None);
        let at = json!({"error": {"type": "usage_limit_reached", "resets_at": NOW + 5}});
        assert_eq!(
            parse_limit_answer(429, &[], at.to_string().as_bytes(), NOW).unwrap().resets_at,
            Some(NOW + 5)
        );
        let bare = json!({"error": {"code": "usage_limit_reached"}});
        assert_eq!(parse_limit_answer(429, &[], bare.to_string().as_bytes(), NOW).unwrap().resets_at, None);
        assert_eq!(parse_limit_answer(429, &[], b"{\"error\": {\"type\": \"rate_limited\"}}", NOW), None);

        let event = json!({"type": "response.failed", "response": {"error": {"code": "usage_limit_reached", "resets_at": NOW + 9}}});
        let sse = format!("event: response.failed\ndata: {event}\n\n");
        assert_eq!(parse_limit_event(sse.as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        assert_eq!(parse_limit_event(event.to_string().as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        assert_eq!(parse_limit_event(b"data: {\"type\": \"response.completed\"}", NOW), None);
        // As the backend sends it: the failure after the events that open
        // the stream, in one piece, with CRLF line ends, or cut short.
        let created =
            json!({"type": "response.created", "response": {"id": "resp_2", "status": "in_progress"}});
        let opened = format!("event: response.created\ndata: {created}\n\n");
        let together = format!("{opened}event: response.in_progress\ndata: {created}\n\n{sse}");
        assert_eq!(parse_limit_event(together.as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        let crlf = together.replace('\n', "\r\n");
        assert_eq!(parse_limit_event(crlf.as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        let unended = together.trim_end();
        assert_eq!(parse_limit_event(unended.as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        assert_eq!(parse_limit_event(opened.as_bytes(), NOW), None);
        assert_eq!(parse_limit_event(b"\xff", NOW), None);
    }

    #[test]
    fn other_meters_are_told_apart_in_headers_answers_and_limits() {
        let headers = [
            ("x-codex-primary-used-percent".to_owned(), "20".to_owned()),
            ("x-codex-bengalfox-primary-used-percent".to_owned(), "100".to_owned()),
            ("x-codex-bengalfox-primary-reset-at".to_owned(), format!("{}", NOW + 90)),
            ("x-codex-bengalfox-limit-name".to_owned(), "codex_bengalfox".to_owned()),
            ("x-other-secondary-used-percent".to_owned(), "5".to_owned()),
            ("x-codex-credits-has-credits".to_owned(), "true".to_owned()),
        ];
        let usage = parse_rate_limit_headers(&headers).unwrap();
        let meters: Vec<_> = usage.windows.iter().map(|w| (w.meter.as_str(), w.used_percent)).collect();
        assert_eq!(meters, [("codex", 20), ("codex_bengalfox", 100), ("other", 5)]);
        assert_eq!(usage.binding_percent(), Some(20), "another meter binds only its models");
        assert_eq!(usage.meter_binding("codex_bengalfox").unwrap().resets_at, Some(NOW + 90));

        let body = json!({
            "rate_limit": {"primary_window": {"used_percent": 30}},
            "additional_rate_limits": [
                {"limit_name": "codex_bengalfox", "metered_feature": "codex_bengalfox",
                 "rate_limit": {"primary_window": {"used_percent": 97, "reset_after_seconds": 60}}},
                {"limit_name": "no spaces allowed", "rate_limit": {"primary_window": {"used_percent": 1}}}
            ]
        });
        let usage = parse_usage(body.to_string().as_bytes(), NOW).unwrap();
        let meters: Vec<_> = usage.windows.iter().map(|w| (w.meter.as_str(), w.used_percent)).collect();
        assert_eq!(meters, [("codex", 30), ("codex_bengalfox", 97)]);
        assert_eq!(Usage::from_json(&usage.to_json()), Some(usage));
        let old = json!({"windows": [{"name": "primary", "used_percent": 3}]});
        assert_eq!(
            Usage::from_json(&old).unwrap().windows[0].meter,
            MAIN_METER,
            "a state from before meters"
        );

        let spent = [("X-Codex-Active-Limit".to_owned(), "codex_bengalfox".to_owned())];
        let body = json!({"error": {"type": "usage_limit_reached"}}).to_string();
        let limit = parse_limit_answer(429, &spent, body.as_bytes(), NOW).unwrap();
        assert_eq!(limit.meter.as_deref(), Some("codex_bengalfox"));
        assert_eq!(parse_limit_answer(429, &[], body.as_bytes(), NOW).unwrap().meter, None);
    }
}
