//! `shop-chaos gameday`: one command that closes the loop from load to fault to
//! alert to recovery, on one machine.
//!
//! It starts a real Prometheus loaded with the generated alert rules (time
//! compressed by the scenario's scale, see [`rules`]), the shop (SQLite, or
//! PostgreSQL through the fault proxy), `loadgen` at a steady rate and an
//! order ledger; runs the scenario's experiments one after the other while
//! watching every alert; judges each expectation (alert fired within its
//! bound after the fault, resolved within its bound after the rollback,
//! probes passed, no acknowledged order lost); and writes a report with a
//! timeline and charts. Everything it started is stopped at the end, also on
//! failure or Ctrl-C.

pub mod load;
pub mod notifications;
mod orders;
mod progress;
mod quiet;
mod replicas;
pub mod report;
pub mod rules;
pub mod scenario;
mod shop;
pub mod timeline;
pub mod verdict;
mod watch;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _, Result};
use fleet::prometheus::{Config as PrometheusConfig, Prometheus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use self::scenario::{Backend, Scenario};
use self::{
    load::LoadGenerator,
    notifications::Receivers,
    orders::Ledger,
    progress::{Progress, WAIT_REPORT_EVERY},
    replicas::{Plan, Shops},
    report::{Report, StepReport},
    scenario::{ExpectedAlert, Step},
    timeline::{unix_now, EventKind, Timeline},
    verdict::FaultWindow,
};
use crate::{
    experiment::{Activity, ActivityKind, Loaded, Vars},
    journal::{ActivityRun, Journal, Phase},
    proxy::FaultProxy,
    runner::{self, RunOptions},
    toxiproxy::NewProxy,
};

/// The name of the database link's proxy, as the shipped experiments expect.
pub const DB_PROXY: &str = "shop-db";

/// What to run, and where.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: PathBuf,
    pub backend: Backend,
    /// Shop replicas: 1 is today's single process; more run as a fleet
    /// behind HAProxy, on PostgreSQL only.
    pub replicas: usize,
    /// PostgreSQL's URL, for [`Backend::Postgres`].
    pub database_url: Option<String>,
    /// The report directory.
    pub out: PathBuf,
    /// Where the `shop` and `loadgen` binaries are.
    pub bin_dir: PathBuf,
    /// The generated alert rules (`alerts/generated`).
    pub rules: PathBuf,
    /// Alertmanager's routing (`alerts/alertmanager.yml`): its pager and
    /// ticket receivers deliver to the game day's own webhooks.
    pub alertmanager_config: PathBuf,
    /// Cancelled on Ctrl-C: the current experiment rolls back, everything
    /// stops, the report says so.
    pub interrupt: CancellationToken,
    /// No progress lines.
    pub quiet: bool,
}

/// A finished (or interrupted) game day.
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    /// `report.md`; `report.html` and `report.json` are beside it.
    pub report_path: PathBuf,
}

impl Finished {
    pub fn passed(&self) -> bool {
        self.report.passed()
    }
}

/// Runs a game day. An error means it could not be set up (a missing
/// binary, a bad scenario, a port in use); a failed expectation is in the
/// report.
pub async fn run(options: Options) -> Result<Finished> {
    let progress = Progress::new(options.quiet);
    if options.replicas == 0 {
        bail!("--replicas must be at least 1");
    }
    if options.replicas > 1 && options.backend != Backend::Postgres {
        bail!(
            "--replicas {} needs --database postgres: on SQLite the shop is one process",
            options.replicas
        );
    }
    let scenario = Scenario::load(&options.scenario)?;
    let shop_binary = binary(&options.bin_dir, "shop")?;
    let loadgen_binary = binary(&options.bin_dir, "loadgen")?;
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("creating the report directory {}", options.out.display()))?;
    progress.line(format!(
        "game day: {} ({} steps, {} on {}, alert windows divided by {})",
        scenario.title,
        scenario.steps.len(),
        match options.replicas {
            1 => "one shop".to_owned(),
            n => format!("{n} shop replicas behind HAProxy"),
        },
        options.backend.as_str(),
        scenario.time_scale
    ));
    let rule_files = rules::write_compressed(
        &options.rules,
        &options.out.join("rules"),
        scenario.time_scale,
    )?;
    let scratch = tempfile::Builder::new()
        .prefix("gameday-")
        .tempdir()
        .context("creating a scratch directory")?;
    let timeline = Timeline::default();

    progress.line("starting the fault proxy and the shop");
    let proxy = FaultProxy::start("127.0.0.1:0")
        .await
        .context("starting the fault proxy")?;
    let database_url = match options.backend {
        Backend::Sqlite => format!("sqlite://{}/shop.db", scratch.path().display()),
        Backend::Postgres => {
            let url = options.database_url.clone().context(
                "--database postgres needs DATABASE_URL=postgres://user@host:port/database \
                 (an empty database the game day may fill)",
            )?;
            let (_, upstream) = shop::postgres_url_via(&url, "")?;
            let link = proxy
                .create(NewProxy {
                    name: DB_PROXY.into(),
                    listen: "127.0.0.1:0".into(),
                    upstream,
                    enabled: true,
                })
                .map_err(|e| anyhow::anyhow!("creating the database link: {}", e.error))?;
            shop::postgres_url_via(&url, &link.listen)?.0
        }
    };
    let shops = Shops::start(
        Plan {
            binary: shop_binary,
            database_url,
            replicas: options.replicas,
            restart_delay: Duration::from_secs_f64(scenario.restart_delay_seconds),
            out: options.out.clone(),
            scratch: scratch.path().to_owned(),
        },
        &timeline,
    )
    .await?;

    progress.line("starting Alertmanager with the shipped routing and webhook receivers");
    let receivers = Receivers::start(&options.alertmanager_config).await?;
    progress.line("starting Prometheus with the generated rules");
    let proxy_api = proxy.api_url();
    let mut prometheus_config = PrometheusConfig::scraping(Vec::<String>::new())
        .discovering(shops.discovery_file())
        .alerting_to(receivers.url())
        .also_scraping(
            "chaos-proxy",
            [proxy_api.trim_start_matches("http://").to_owned()],
        );
    for file in &rule_files {
        prometheus_config = prometheus_config.rule_file(file);
    }
    let prometheus = Arc::new(
        Prometheus::start(prometheus_config)
            .await
            .context("starting Prometheus (Debian package `prometheus`)")?,
    );
    prometheus
        .wait_until(
            "up{job=\"shop\"}",
            |up| up.iter().any(|s| s.value == 1.0),
            Duration::from_secs(60),
        )
        .await
        .context("waiting for Prometheus' first scrape of the shop")?;

    let stop_watching = CancellationToken::new();
    let watcher = watch::spawn(prometheus.clone(), timeline.clone(), stop_watching.clone());
    let ledger = Ledger::default();
    let ledger_task = ledger.spawn(
        shops.url(),
        scenario.load.orders_per_second,
        stop_watching.clone(),
    );
    progress.line(format!(
        "starting loadgen: {} users, {} requests/s",
        scenario.load.users, scenario.load.requests_per_second
    ));
    let mut loadgen = LoadGenerator::start(
        &loadgen_binary,
        &shops.url(),
        &scenario.load,
        options.out.join("loadgen"),
    )
    .await?;

    let day = Day {
        scenario: &scenario,
        options: &options,
        progress: &progress,
        timeline: &timeline,
        prometheus: &prometheus,
        ledger: &ledger,
        shops: &shops,
        receivers: &receivers,
        proxy_api: &proxy_api,
    };
    let started = unix_now();
    let mut steps = Vec::new();
    let mut verdicts = Vec::new();
    let warm_up = Duration::from_secs(scenario.warm_up_seconds);
    let mut interrupted = !day.sleep("the warm-up load", warm_up).await;
    if !loadgen.is_running() {
        bail!(
            "loadgen stopped during the warm-up: see {}",
            options.out.join("loadgen/loadgen.log").display()
        );
    }
    for step in &scenario.steps {
        if interrupted {
            break;
        }
        let (step_report, step_verdicts) = day.run_step(step).await;
        for verdict in &step_verdicts {
            let notice = match (&verdict.notified, &verdict.resolved_notice) {
                (Some(at), _) => format!("; notified {at}"),
                (_, Some(at)) => format!("; resolved notice {at}"),
                _ => String::new(),
            };
            progress.line(format!(
                "  {} {}: {} ({}){notice}",
                if verdict.passed { "PASS" } else { "FAIL" },
                verdict.expectation,
                verdict.measured,
                verdict.bound
            ));
        }
        steps.push(step_report);
        verdicts.extend(step_verdicts);
        interrupted = options.interrupt.is_cancelled();
    }
    let ended = unix_now();

    progress.line("stopping loadgen");
    let load = loadgen.stop().await;
    if let Err(error) = &load {
        timeline.note(format!("no loadgen summary: {error:#}"));
    }
    stop_watching.cancel();
    let _ = watcher.await;
    let _ = ledger_task.await;
    progress.line("rendering the charts");
    let faults: Vec<(String, FaultWindow)> = steps
        .iter()
        .filter_map(|s| s.fault.map(|f| (s.name.clone(), f)))
        .collect();
    receivers.record(&timeline);
    let notices: Vec<dashboards::render::Marker> = timeline
        .events()
        .iter()
        .filter_map(|e| match &e.what {
            EventKind::Notification {
                receiver, status, ..
            } if status == "firing" => Some(dashboards::render::Marker {
                at: e.at,
                label: format!("delivered to {receiver}"),
            }),
            _ => None,
        })
        .collect();
    let charts = report::charts::render(
        prometheus.url(),
        &options.out,
        (started - 5.0, ended + 5.0),
        &faults,
        &notices,
        scenario.time_scale,
    )
    .await
    .unwrap_or_else(|error| {
        timeline.note(format!("the charts could not be rendered: {error:#}"));
        Vec::new()
    });
    progress.line("stopping the shop, Prometheus and the fault proxy");
    shops.stop().await;
    drop(prometheus);
    proxy.shutdown();
    proxy.wait().await;

    let report = Report {
        title: scenario.title.clone(),
        scenario: options.scenario.display().to_string(),
        backend: options.backend.as_str().to_owned(),
        replicas: options.replicas,
        time_scale: scenario.time_scale,
        started,
        ended,
        interrupted,
        steps,
        verdicts,
        load: load.ok(),
        charts,
        timeline: timeline.events(),
    };
    let report_path = report.write(&options.out).context("writing the report")?;
    Ok(Finished {
        report,
        report_path,
    })
}

/// The binary `name` in `dir`, or a message saying how to build it.
fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        bail!(
            "the game day runs the `{name}` binary from {}, and it is not there: build it \
             with `cargo build -p shop -p loadgen` (with --release if shop-chaos is a release \
             build), or pass --bin-dir",
            dir.display()
        )
    }
}

/// What every step needs.
struct Day<'a> {
    scenario: &'a Scenario,
    options: &'a Options,
    progress: &'a Progress,
    timeline: &'a Timeline,
    prometheus: &'a Arc<Prometheus>,
    ledger: &'a Ledger,
    shops: &'a Shops,
    receivers: &'a Receivers,
    proxy_api: &'a str,
}

/// When the fault of a running experiment began and ended.
#[derive(Debug, Default)]
struct Marks {
    fault_start: Option<f64>,
    fault_end: Option<f64>,
}

const POLL: Duration = Duration::from_millis(500);
/// How long a step waits for the shop to take orders again after a fault.
const RECOVERY_BOUND: Duration = Duration::from_secs(60);
/// How long a step waits for the resolved notices of its alerts.
const NOTICE_BOUND: Duration = Duration::from_secs(15);
/// How long a step waits for the previous step's alerts to clear.
const SETTLE_BOUND: Duration = Duration::from_secs(120);

impl Day<'_> {
    /// Polls `pending` until it answers `None` (true), `bound` passes
    /// (false) or the game day is interrupted (false). `pending` names what
    /// is still awaited, for the progress line every few seconds.
    async fn wait_while(
        &self,
        bound: Duration,
        mut pending: impl AsyncFnMut() -> Option<String>,
    ) -> bool {
        let started = Instant::now();
        let mut reported = Instant::now();
        loop {
            let Some(what) = pending().await else {
                return true;
            };
            if started.elapsed() >= bound {
                return false;
            }
            if reported.elapsed() >= WAIT_REPORT_EVERY {
                self.progress.waiting(&what, started.elapsed(), bound);
                reported = Instant::now();
            }
            tokio::select! {
                () = self.options.interrupt.cancelled() => return false,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sleeps, reporting progress; false if interrupted.
    async fn sleep(&self, what: &str, duration: Duration) -> bool {
        self.wait_while(duration, async || Some(what.to_owned()))
            .await;
        !self.options.interrupt.is_cancelled()
    }

    /// Waits until none of `alerts` is pending or firing, at most `bound`;
    /// false if they still are (or on interrupt).
    async fn wait_inactive(&self, alerts: &[ExpectedAlert], what: &str, bound: Duration) -> bool {
        self.wait_while(bound, async || {
            let active = self.prometheus.alerts().await.unwrap_or_default();
            let still: Vec<String> = alerts
                .iter()
                .filter(|e| {
                    active.iter().any(|a| {
                        a.name() == e.alert
                            && e.severity
                                .as_deref()
                                .is_none_or(|s| s == a.label("severity"))
                    })
                })
                .map(ExpectedAlert::describe)
                .collect();
            (!still.is_empty()).then(|| format!("{what}: {}", still.join(", ")))
        })
        .await
    }

    /// Waits until every expected alert that was delivered firing has had its
    /// resolved notice delivered too (Alertmanager sends it at the group's
    /// next interval), at most [`NOTICE_BOUND`].
    async fn wait_for_resolved_notices(&self, step: &Step, fault: FaultWindow) {
        self.wait_while(NOTICE_BOUND, async || {
            self.receivers.record(self.timeline);
            let events = self.timeline.events();
            let missing: Vec<String> = step
                .alerts
                .iter()
                .filter(|a| {
                    let notices = verdict::notice_times(a, fault, &events);
                    notices.firing.is_some() && notices.resolved.is_none()
                })
                .map(ExpectedAlert::describe)
                .collect();
            (!missing.is_empty()).then(|| format!("resolved notices of {}", missing.join(", ")))
        })
        .await;
    }

    /// Waits until the shop acknowledges an order again after the fault
    /// ended (it has recovered), at most [`RECOVERY_BOUND`].
    async fn wait_for_orders_after(&self, fault_end: f64) {
        self.wait_while(RECOVERY_BOUND, async || {
            (self.ledger.acknowledged_since(fault_end) == 0)
                .then(|| "an order acknowledged after the fault".to_owned())
        })
        .await;
    }

    fn vars(&self) -> Vars {
        Vars::from_env()
            .with("SHOP_URL", self.shops.url())
            .with("SHOP_ADMIN_URL", self.shops.admin_url())
            .with("SHOP_ADMIN_TOKEN", self.shops.admin_token())
            .with("SHOP_PID_FILE", self.shops.pid_file().display().to_string())
            .with(
                "SHOP_VICTIM_PID_FILE",
                self.shops.victim_pid_file().display().to_string(),
            )
            .with("PROMETHEUS_URL", self.prometheus.url())
            .with("CHAOS_PROXY_API", self.proxy_api)
            .with("CHAOS_DB_PROXY", DB_PROXY)
    }

    async fn run_step(&self, step: &Step) -> (StepReport, Vec<verdict::Verdict>) {
        let backend = self.options.backend;
        let mut report = StepReport {
            name: step.name.clone(),
            experiment: String::new(),
            fault: None,
            started: unix_now(),
            ended: unix_now(),
            skipped: None,
            journal: None,
        };
        if let Some(needed) = step.min_replicas.filter(|n| *n > self.shops.replicas()) {
            report.skipped = Some(format!(
                "needs {needed} replicas, the game day runs {}",
                self.shops.replicas()
            ));
            self.progress.line(format!(
                "step {}: skipped with {} replica(s)",
                step.name,
                self.shops.replicas()
            ));
            return (report, Vec::new());
        }
        let Some(path) = step.experiment_for(&self.scenario.dir, backend) else {
            report.skipped = Some(format!("no experiment for {}", backend.as_str()));
            self.progress.line(format!(
                "step {}: skipped on {}",
                step.name,
                backend.as_str()
            ));
            return (report, Vec::new());
        };
        report.experiment = path.display().to_string();
        self.progress
            .line(format!("step {}: {}", step.name, path.display()));
        if !step.alerts.is_empty()
            && !self
                .wait_inactive(&step.alerts, "earlier alerts to clear", SETTLE_BOUND)
                .await
        {
            self.timeline.note(format!(
                "{}: an expected alert was still active before the fault",
                step.name
            ));
        }
        let mut loaded = match Loaded::load(&path, &self.vars()) {
            Ok(loaded) => loaded,
            Err(error) => {
                let verdict = verdict::Verdict {
                    step: step.name.clone(),
                    expectation: "the experiment loads".into(),
                    bound: "valid".into(),
                    measured: error.to_string(),
                    passed: false,
                    notified: None,
                    resolved_notice: None,
                };
                return (report, vec![verdict]);
            }
        };
        if !step.alerts.is_empty() {
            loaded
                .experiment
                .method
                .push(hold_until_firing(&step.alerts, self.prometheus.url()));
        }

        report.started = self.timeline.push(EventKind::StepStarted {
            step: step.name.clone(),
        });
        let marks = Arc::new(Mutex::new(Marks::default()));
        let observer = {
            let marks = marks.clone();
            let progress = self.progress.clone();
            Arc::new(move |run: &ActivityRun| {
                let now = unix_now();
                let mut marks = marks.lock().unwrap_or_else(|e| e.into_inner());
                if run.phase == Phase::Method
                    && run.kind == ActivityKind::Action
                    && marks.fault_start.is_none()
                {
                    marks.fault_start = Some(now);
                }
                if run.phase == Phase::Rollback {
                    marks.fault_end = Some(now);
                }
                progress.line(format!("  {}", run.timeline_line()));
            })
        };
        let journal = runner::run_loaded(
            &loaded,
            RunOptions {
                interrupt: Some(self.options.interrupt.clone()),
                observer: Some(observer),
                ..RunOptions::default()
            },
        )
        .await;
        let finished = unix_now();
        let fault = {
            let marks = marks.lock().unwrap_or_else(|e| e.into_inner());
            marks.fault_start.map(|start| FaultWindow {
                start,
                end: marks.fault_end.unwrap_or(finished),
            })
        };
        if let Some(fault) = fault {
            self.timeline.push_at(
                fault.start,
                EventKind::FaultStarted {
                    step: step.name.clone(),
                },
            );
            self.timeline.push_at(
                fault.end,
                EventKind::FaultEnded {
                    step: step.name.clone(),
                },
            );
        }
        report.fault = fault;
        report.journal = self.save_journal(step, &journal);

        if let Some(bound) = step
            .alerts
            .iter()
            .map(|a| a.resolve_within)
            .reduce(f64::max)
        {
            // A little past the bound, so a late resolution is measured
            // (and judged) rather than cut off.
            let bound = Duration::from_secs_f64(bound + 5.0);
            self.wait_inactive(&step.alerts, "the alerts to resolve", bound)
                .await;
        }
        if let (true, Some(fault)) = (step.no_lost_orders, fault) {
            self.wait_for_orders_after(fault.end).await;
        }
        let audit = if step.no_lost_orders {
            self.progress
                .line("  auditing the orders acknowledged during the step");
            Some(
                self.ledger
                    .audit(&self.shops.url(), report.started, unix_now())
                    .await,
            )
        } else {
            None
        };
        // The watcher polls as often as the waits do: give it a moment to
        // record what the wait just saw.
        tokio::time::sleep(2 * POLL).await;
        if let Some(fault) = fault {
            self.wait_for_resolved_notices(step, fault).await;
        }
        self.receivers.record(self.timeline);
        report.ended = self.timeline.push(EventKind::StepEnded {
            step: step.name.clone(),
        });
        let mut verdicts = verdict::judge(
            step,
            fault,
            &journal,
            &self.timeline.events(),
            audit.as_ref(),
        );
        for quiet in &step.stays_quiet {
            let why = quiet::why(self.prometheus, quiet, report.started, report.ended).await;
            verdicts.push(verdict::stays_quiet(
                step,
                quiet,
                &self.timeline.events(),
                (report.started, report.ended),
                why,
            ));
        }
        (report, verdicts)
    }

    fn save_journal(&self, step: &Step, journal: &Journal) -> Option<String> {
        let dir = self.options.out.join("journals");
        let path = dir.join(format!("{}.json", step.name));
        let json = serde_json::to_string_pretty(journal).ok()?;
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&path, json).ok()?;
        Some(format!("journals/{}.json", step.name))
    }
}

/// A probe appended to a step's method: it holds the fault until every
/// expected alert fires (or the longest `fire-within` has passed), so the
/// fault lasts as long as detection takes, and no longer.
fn hold_until_firing(alerts: &[ExpectedAlert], prometheus_url: &str) -> Activity {
    let query = alerts
        .iter()
        .map(|a| {
            let severity = a
                .severity
                .as_ref()
                .map(|s| format!(", severity={s:?}"))
                .unwrap_or_default();
            format!(
                "count(ALERTS{{alertname={:?}, alertstate=\"firing\"{severity}}})",
                a.alert
            )
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let bound = alerts.iter().map(|a| a.fire_within).fold(1.0, f64::max);
    let interval = 0.5;
    serde_json::from_value(json!({
        "type": "probe",
        "name": "game-day-holds-the-fault-until-the-alerts-fire",
        "provider": { "type": "prometheus", "query": query, "url": prometheus_url },
        "tolerance": { "type": "range", "range": [1, null] },
        "retry": { "attempts": (bound / interval).ceil() as u32 + 1, "interval": interval },
        "timeout": bound + 30.0,
    }))
    .expect("the hold probe is a valid activity")
}
