//! A real shop in the test process (SQLite, free ports), the `loadgen` binary
//! run against it, and readers for what both leave behind.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use shop::configuration::Settings;
use shop::startup::Application;
use shop_contract::faults::{FaultKind, FaultSpec};
use shop_contract::metrics::{labels, names};
use tokio::process::Command;
use tokio::sync::{Mutex, MutexGuard};

/// Load tests take the machine's cores: one at a time.
static EXCLUSIVE: Mutex<()> = Mutex::const_new(());

pub(crate) async fn exclusive() -> MutexGuard<'static, ()> {
    EXCLUSIVE.lock().await
}

pub(crate) struct TestShop {
    pub(crate) address: String,
    pub(crate) admin_address: String,
    admin_token: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A seeded shop on a fresh SQLite database, served until the test ends.
pub(crate) async fn spawn_shop() -> TestShop {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = Settings::ephemeral(&format!("sqlite://{}/shop.db", dir.path().display()));
    let admin_token = settings
        .admin_token
        .clone()
        .expect("ephemeral settings have an admin token");
    let app = Application::build(settings).await.expect("the shop builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_address = format!("http://127.0.0.1:{}", app.admin_port());
    tokio::spawn(app.run_until_stopped());
    TestShop {
        address,
        admin_address,
        admin_token,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client"),
        _dir: dir,
    }
}

impl TestShop {
    /// Inject a fault through the admin API; panics unless it is created.
    pub(crate) async fn inject(&self, spec: &FaultSpec) {
        let response = self
            .client
            .post(format!("{}/admin/faults", self.admin_address))
            .bearer_auth(&self.admin_token)
            .json(spec)
            .send()
            .await
            .expect("the admin port answers");
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// `(method, route)` to the number of requests the shop counted.
    pub(crate) async fn served(&self) -> BTreeMap<(String, String), f64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.admin_address))
            .send()
            .await
            .expect("the admin port answers")
            .text()
            .await
            .expect("a metrics page");
        request_counts(&text)
    }
}

/// An error fault on every route for `seconds`.
pub(crate) fn error_everywhere(seconds: u64) -> FaultSpec {
    FaultSpec {
        kind: FaultKind::Error,
        target: Default::default(),
        route: shop_contract::faults::ANY_ROUTE.into(),
        probability: 1.0,
        latency_ms: None,
        status: Some(500),
        duration_seconds: seconds,
    }
}

/// Requests per `(method, route)` from the request histogram's `_count`
/// series, summed over status codes.
pub(crate) fn request_counts(exposition: &str) -> BTreeMap<(String, String), f64> {
    let series = format!("{}_count{{", names::HTTP_SERVER_REQUEST_DURATION);
    let mut counts = BTreeMap::new();
    for line in exposition.lines().filter(|l| l.starts_with(&series)) {
        let (label_set, value) = parse_series(&line[series.len()..]);
        let method = label_set
            .get(labels::HTTP_REQUEST_METHOD)
            .cloned()
            .unwrap_or_default();
        let route = label_set
            .get(labels::HTTP_ROUTE)
            .cloned()
            .unwrap_or_default();
        *counts.entry((method, route)).or_insert(0.0) += value;
    }
    counts
}

/// `k="v",k2="v2"} 12` → labels and value. Label values may hold braces
/// (`/product/{slug}`), so quotes are followed, not braces.
fn parse_series(text: &str) -> (BTreeMap<String, String>, f64) {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            let value = after.split_whitespace().next().unwrap_or("0");
            return (labels, value.parse().unwrap_or(0.0));
        }
        let (key, after_key) = rest.split_once("=\"").expect("a label");
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(if escaped == 'n' { '\n' } else { escaped });
                    }
                }
                Some((at, '"')) => break at,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {text}"),
            }
        };
        labels.insert(key.to_string(), value);
        rest = &after_key[end + 1..];
    }
}

/// What a `loadgen` process left.
pub(crate) struct Ran {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    /// Both streams, for an assertion message.
    pub(crate) fn output(&self) -> String {
        format!(
            "exit {:?}\n--- stderr ---\n{}\n--- stdout (tail) ---\n{}",
            self.code,
            self.stderr,
            tail(&self.stdout, 60)
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The `loadgen` binary with `args`, in `dir`.
pub(crate) fn loadgen(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Run `loadgen` to the end, giving up after `limit`.
pub(crate) async fn run_loadgen(args: &[&str], dir: &Path, limit: Duration) -> Ran {
    let child = loadgen(args, dir).spawn().expect("loadgen starts");
    finish(child, limit).await
}

pub(crate) async fn finish(child: tokio::process::Child, limit: Duration) -> Ran {
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("loadgen ran for more than {limit:?}"))
        .expect("loadgen's output");
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_with_braces_in_label_values_are_read() {
        let text = "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_route=\"/product/{slug}\",http_response_status_code=\"200\"} 7\n\
                    http_server_request_duration_seconds_count{http_request_method=\"GET\",http_route=\"/product/{slug}\",http_response_status_code=\"500\"} 2\n\
                    http_server_request_duration_seconds_sum{http_request_method=\"GET\",http_route=\"/\"} 9\n";
        let counts = request_counts(text);
        assert_eq!(counts.len(), 1);
        assert_eq!(
            counts[&("GET".to_string(), "/product/{slug}".to_string())],
            9.0
        );
    }
}
