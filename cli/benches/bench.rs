//! codex-auth's benchmarks, one run each: the component against the same
//! guest logic compiled natively, whole-process starts, and refresh storms.
//!
//! `cargo bench -p codex-auth --bench bench` prints a Markdown report; the
//! numbers in BENCHMARKS.md come from it. Every ratio is against a baseline
//! measured in the same run.

#[allow(dead_code, reason = "shared with the end-to-end tests, which use all of it")]
#[path = "../../tests/e2e/support.rs"]
mod support;

#[allow(dead_code, reason = "shared with the end-to-end tests, which use all of it")]
#[path = "../../tests/e2e/mock_issuer.rs"]
mod mock_issuer;

mod native;

use codex_auth::{Auth, Options};
use mock_issuer::MockIssuer;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Median, min and max of a set of measurements.
struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats { median: samples[samples.len() / 2], min: samples[0], max: samples[samples.len() - 1] }
}

/// Time per call of `f`: `samples` batches of `per_sample` calls each.
fn per_call(samples: usize, per_sample: u32, mut f: impl FnMut()) -> Stats {
    for _ in 0..per_sample {
        f();
    }
    stats(
        (0..samples)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..per_sample {
                    f();
                }
                start.elapsed() / per_sample
            })
            .collect(),
    )
}

/// Wall time of `runs` runs of `f`.
fn per_run(runs: usize, mut f: impl FnMut()) -> Stats {
    stats(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        n if n < 10_000 => format!("{n} ns"),
        n if n < 10_000_000 => format!("{:.1} us", n as f64 / 1e3),
        n => format!("{:.1} ms", n as f64 / 1e6),
    }
}

struct Report {
    rows: Vec<String>,
}

impl Report {
    fn row(&mut self, name: &str, s: &Stats, baseline: Option<&Stats>, note: &str) {
        let ratio = baseline
            .map_or("".into(), |b| format!("{:.2}x", s.median.as_secs_f64() / b.median.as_secs_f64()));
        self.rows.push(format!(
            "| {name} | {} | {} | {} | {ratio} | {note} |",
            fmt(s.median),
            fmt(s.min),
            fmt(s.max)
        ));
        eprintln!("{name}: median {}", fmt(s.median));
    }
}

fn main() {
    // `cargo bench -- micro` runs only the in-process benchmarks.
    let micro_only = std::env::args().any(|a| a == "micro");
    let mut report = Report { rows: Vec::new() };
    let dir = Dir::new();
    let exp = now() + 24 * 3600;
    let file = serde_json::to_vec_pretty(&codex_chatgpt_file(exp, "rt-bench")).unwrap();
    dir.write_store(&file);
    let options = Options::new(dir.home());
    let auth = Auth::open(options.clone()).unwrap();
    let native = native::session(&file);

    // Warm request headers: reused instance vs the same logic natively.
    let native_headers = per_call(31, 20_000, || {
        black_box(native.request_headers().unwrap());
    });
    let component_headers = per_call(31, 20_000, || {
        black_box(auth.request_headers().unwrap());
    });
    let component_bool = per_call(31, 20_000, || {
        black_box(auth.authenticated().unwrap());
    });
    let component_token = per_call(31, 20_000, || {
        black_box(auth.access_token().unwrap());
    });
    report.row("request-headers, native guest logic (baseline)", &native_headers, None, "");
    report.row(
        "authenticated, component (call floor: no clock, no strings)",
        &component_bool,
        Some(&native_headers),
        "",
    );
    report.row(
        "access-token, component (clock import + one string)",
        &component_token,
        Some(&native_headers),
        "",
    );
    report.row(
        "request-headers, component (warm instance)",
        &component_headers,
        Some(&native_headers),
        "target <= 1 us and <= 3x",
    );

    let jwt = id_token(exp);
    let native_claims = per_call(31, 20_000, || {
        black_box(codex_auth_guest::oauth::jwt::parse(&jwt).unwrap());
    });
    let component_claims = per_call(31, 20_000, || {
        black_box(auth.claims(&jwt).unwrap());
    });
    report.row("JWT claims, native (baseline)", &native_claims, None, "");
    report.row("JWT claims, component", &component_claims, Some(&native_claims), "");

    let entropy = [7u8; 96];
    let native_pkce = per_call(31, 20_000, || {
        black_box(codex_auth_guest::oauth::pkce::from_entropy(&entropy[..64]).unwrap());
    });
    let component_pkce = per_call(31, 20_000, || {
        black_box(auth.pkce(&entropy[..64]).unwrap());
    });
    report.row("PKCE pair, native (baseline)", &native_pkce, None, "");
    report.row("PKCE pair, component", &component_pkce, Some(&native_pkce), "");

    let native_load = per_call(31, 2_000, || {
        native.reload().unwrap();
    });
    let component_load = per_call(31, 2_000, || {
        auth.reload().unwrap();
    });
    report.row(
        "store load (read + parse auth.json), native (baseline)",
        &native_load,
        None,
        "in-memory file",
    );
    report.row("store load, component", &component_load, Some(&native_load), "real file");

    let instantiate = per_call(31, 200, || {
        black_box(Auth::open(options.clone()).unwrap());
    });
    report.row(
        "fresh instantiation (Auth::open, engine warm)",
        &instantiate,
        Some(&component_headers),
        "ratio vs a warm call",
    );

    if !micro_only {
        whole_process(&mut report, &dir);
        storms(&mut report);
    }

    println!("| benchmark | median | min | max | ratio | note |");
    println!("|---|---|---|---|---|---|");
    for row in &report.rows {
        println!("{row}");
    }
}

/// `codex-auth token` as a whole process: repeated runs, and the first run
/// of a freshly installed binary (a new copy each time; there is no cache to
/// wipe: the guest is compiled at build time); `codex login status` of the
/// real Codex CLI when installed.
fn whole_process(report: &mut Report, dir: &Dir) {
    let token = || {
        let mut cmd = dir.cli();
        cmd.arg("token");
        cmd
    };
    let (warm_mem, warm) = process_runs(21, token, || {});
    report.row(
        "`codex-auth token`, warm (wall)",
        &warm,
        None,
        &format!("peak RSS {warm_mem} KiB; target <= 5 ms, <= 16 MiB"),
    );
    let installed = dir.root.path().join("installed");
    let fresh = || {
        let mut cmd = Command::new(installed.join("codex-auth"));
        cmd.args(dir.cli().get_args()).arg("token").env_clear();
        for (k, v) in dir.cli().get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd
    };
    let (cold_mem, cold) = process_runs(5, fresh, || {
        let _ = std::fs::remove_dir_all(&installed);
        std::fs::create_dir_all(&installed).unwrap();
        std::fs::copy(dir.cli().get_program(), installed.join("codex-auth")).unwrap();
    });
    report.row(
        "`codex-auth token`, first run of a freshly installed binary",
        &cold,
        Some(&warm),
        &format!("peak RSS {cold_mem} KiB; target <= 1.5x warm"),
    );
    let codex = std::env::var_os("CODEX_AUTH_CODEX_BIN").map(std::path::PathBuf::from).or_else(|| {
        Some(std::path::PathBuf::from("../.tools/codex/node_modules/.bin/codex")).filter(|p| p.exists())
    });
    if let Some(codex) = codex {
        let home = dir.home();
        let (mem, s) = process_runs(
            11,
            || {
                let mut cmd = Command::new(&codex);
                cmd.args(["login", "status"]).env("CODEX_HOME", &home);
                cmd
            },
            || {},
        );
        report.row(
            "`codex login status` (Codex CLI, npm)",
            &s,
            Some(&warm),
            &format!("peak RSS {mem} KiB; ratio is Codex / codex-auth"),
        );
    }
}

/// Runs a command `runs` times under `/usr/bin/time -f %M`; returns the
/// median peak RSS (KiB) and the wall-time stats.
fn process_runs(runs: usize, make: impl Fn() -> Command, before: impl Fn()) -> (u64, Stats) {
    let mut rss = Vec::new();
    let mut walls = Vec::new();
    for _ in 0..runs {
        before();
        let inner = make();
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f").arg("%M").arg(inner.get_program()).args(inner.get_args());
        // Only what the command sets, plus PATH and HOME: nothing else leaks in.
        cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if let Some(home) = std::env::var_os("HOME") {
            cmd.env("HOME", home);
        }
        for (k, v) in inner.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        let start = Instant::now();
        let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
        walls.push(start.elapsed());
        let text = String::from_utf8_lossy(&out.stderr);
        rss.push(text.lines().last().and_then(|l| l.trim().parse::<u64>().ok()).unwrap_or(0));
    }
    rss.sort();
    (rss[rss.len() / 2], stats(walls))
}

/// A mock issuer and a store whose token is expired (or fresh).
fn storm_setup(expired: bool) -> (MockIssuer, Dir) {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let exp = if expired { now() - 10 } else { now() + 3600 };
    dir.write_store(&serde_json::to_vec(&mock.codex_file(exp)).unwrap());
    (mock, dir)
}

/// Five storms on a fresh token (the baseline), then five on an expired one;
/// `storm` returns how many refresh requests the issuer saw.
fn storm_pair(report: &mut Report, name: &str, storm: impl Fn(&MockIssuer, &Dir)) {
    let mut requests = Vec::new();
    let mut run = |expired: bool| {
        per_run(5, || {
            let (mock, dir) = storm_setup(expired);
            storm(&mock, &dir);
            requests.push(mock.state().refresh_requests);
        })
    };
    let fresh = run(false);
    let expired = run(true);
    report.row(&format!("{name}, fresh token (baseline)"), &fresh, None, "");
    let note = format!("refresh requests per storm: {:?}", &requests[5..]);
    report.row(&format!("{name}, expired token"), &expired, Some(&fresh), &note);
}

/// Refresh storms: 1000 callers in one process, 16 processes, each on an
/// expired token, against the same on a fresh token (the baseline).
fn storms(report: &mut Report) {
    storm_pair(report, "1000 threads", |mock, dir| {
        let mut o = Options::new(dir.home());
        o.issuer = Some(mock.url.clone());
        let auth = Auth::open(o).unwrap();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..1000).map(|_| s.spawn(|| auth.access_token().unwrap())).collect();
            for h in handles {
                black_box(h.join().unwrap());
            }
        });
    });
    storm_pair(report, "16 processes", |mock, dir| {
        let children: Vec<_> = (0..16)
            .map(|_| {
                let mut cmd = dir.cli();
                cmd.args(["--issuer", &mock.url, "token"]).stdout(Stdio::piped()).stderr(Stdio::null());
                cmd.spawn().unwrap()
            })
            .collect();
        let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap().stdout).collect();
        assert!(outs.iter().all(|o| *o == outs[0] && !o.is_empty()));
    });
}
