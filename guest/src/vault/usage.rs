//! What the ChatGPT backend says about an account's usage: the
//! `/wham/usage` answer, the `x-codex-*` rate-limit headers of any answer,
//! and the `usage_limit_reached` error (a 429, or a `response.failed` event
//! inside a stream).

use serde_json::{Value, json};

/// One rate-limit window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
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
    /// The window that binds first: the most used one.
    pub fn binding(&self) -> Option<&Window> {
        self.windows.iter().max_by_key(|w| w.used_percent)
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
            match self.windows.iter_mut().find(|w| w.name == window.name) {
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
                json!({"name": w.name, "used_percent": w.used_percent,
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
    let mut windows = Vec::new();
    for name in ["primary", "secondary"] {
        let w = &limits[format!("{name}_window")];
        let Some(used_percent) = percent(&w["used_percent"]) else { continue };
        let resets_at = w["reset_at"]
            .as_i64()
            .or_else(|| w["reset_after_seconds"].as_i64().map(|after| now.saturating_add(after)));
        windows.push(Window {
            name: name.into(),
            used_percent,
            window_seconds: w["limit_window_seconds"].as_i64(),
            resets_at,
        });
    }
    Ok(Usage {
        plan: root["plan_type"].as_str().map(str::to_owned),
        windows,
        limit_reached: limits["limit_reached"].as_bool().unwrap_or(false)
            || limits["allowed"].as_bool() == Some(false),
    })
}

/// The `x-codex-*` rate-limit headers of an answer, if it has any.
pub fn parse_rate_limit_headers(headers: &[(String, String)]) -> Option<Usage> {
    let get = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
    };
    let mut windows = Vec::new();
    for name in ["primary", "secondary"] {
        let Some(used_percent) =
            get(&format!("x-codex-{name}-used-percent")).and_then(|v| percent(&json!(v)))
        else {
            continue;
        };
        let minutes = get(&format!("x-codex-{name}-window-minutes")).and_then(|v| v.parse::<i64>().ok());
        windows.push(Window {
            name: name.into(),
            used_percent,
            window_seconds: minutes.map(|m| m.saturating_mul(60)),
            resets_at: get(&format!("x-codex-{name}-reset-at")).and_then(|v| v.parse().ok()),
        });
    }
    (!windows.is_empty()).then_some(Usage { plan: None, windows, limit_reached: false })
}

/// A usage limit was reached: when it frees up, if the answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitReached {
    pub resets_at: Option<i64>,
    pub message: Option<String>,
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
    Some(LimitReached { resets_at, message: error["message"].as_str().map(str::to_owned) })
}

/// A 429 answer's body: `{"error": {"type": "usage_limit_reached", ...}}`.
pub fn parse_limit_answer(status: u16, body: &[u8], now: i64) -> Option<LimitReached> {
    if status != 429 {
        return None;
    }
    let root: Value = serde_json::from_slice(body).ok()?;
    limit_in(&root["error"], now)
}

/// A stream event: `response.failed` whose `response.error` says
/// `usage_limit_reached`. Takes the event's JSON data (`data: ...`), or a
/// whole SSE event block.
pub fn parse_limit_event(event: &[u8], now: i64) -> Option<LimitReached> {
    let text = std::str::from_utf8(event).ok()?;
    let data: String = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect::<Vec<_>>().join("\n")
    };
    let root: Value = serde_json::from_str(&data).ok()?;
    if root["type"].as_str() != Some("response.failed") {
        return None;
    }
    limit_in(&root["response"]["error"], now)
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
                name: "primary".into(),
                used_percent: 13,
                window_seconds: Some(18000),
                resets_at: Some(NOW + 60)
            }]
        );
        assert_eq!(parse_rate_limit_headers(&headers[3..]), None);
        let mut known = Usage { plan: Some("plus".into()), ..usage.clone() };
        known.windows.push(Window {
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
        let limit = parse_limit_answer(429, answer.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(limit.resets_at, Some(NOW + 120));
        assert_eq!(parse_limit_answer(500, answer.to_string().as_bytes(), NOW), None);
        let at = json!({"error": {"type": "usage_limit_reached", "resets_at": NOW + 5}});
        assert_eq!(parse_limit_answer(429, at.to_string().as_bytes(), NOW).unwrap().resets_at, Some(NOW + 5));
        let bare = json!({"error": {"code": "usage_limit_reached"}});
        assert_eq!(parse_limit_answer(429, bare.to_string().as_bytes(), NOW).unwrap().resets_at, None);
        assert_eq!(parse_limit_answer(429, b"{\"error\": {\"type\": \"rate_limited\"}}", NOW), None);

        let event = json!({"type": "response.failed", "response": {"error": {"code": "usage_limit_reached", "resets_at": NOW + 9}}});
        let sse = format!("event: response.failed\ndata: {event}\n\n");
        assert_eq!(parse_limit_event(sse.as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        assert_eq!(parse_limit_event(event.to_string().as_bytes(), NOW).unwrap().resets_at, Some(NOW + 9));
        assert_eq!(parse_limit_event(b"data: {\"type\": \"response.completed\"}", NOW), None);
        assert_eq!(parse_limit_event(b"\xff", NOW), None);
    }
}
