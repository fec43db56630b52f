//! `http_server_request_duration_seconds` and `http_server_active_requests`,
//! counted by each worker thread in its own series and added up at scrape.
//!
//! The `prometheus` crate's vectors find a series by hashing its label
//! values (SipHash) under a lock every worker shares, and count with atomics
//! every worker shares. Here each worker finds its series in a list only it
//! reads, without a lock, and counts in atomics only it writes, with plain
//! loads and stores; the scrape reads them. The exposition is the same (a
//! test below compares the two).

use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap},
    rc::Rc,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use actix_web::http::StatusCode;
use prometheus::{
    core::{Collector, Desc},
    proto::{self, MetricFamily, MetricType},
};

use crate::contract::metrics::{labels, names, LATENCY_BUCKETS};

/// The two request metrics of one app; clones share them.
#[derive(Clone)]
pub(super) struct RequestSeries(Arc<Shared>);

struct Shared {
    descs: [Desc; 2],
    /// Every worker's series, for the scrape. A worker's are never dropped:
    /// its counts must not go backwards.
    workers: Mutex<Vec<Arc<Mutex<Vec<Series>>>>>,
}

/// The series of one method and route on one worker.
#[derive(Clone)]
struct Series {
    method: &'static str,
    route: &'static str,
    active: Arc<AtomicI64>,
    /// By status: a handful per route.
    durations: Vec<(StatusCode, Arc<Durations>)>,
}

/// One worker's series: the worker's own copy, which it reads without a
/// lock, and the list the scrape reads, which the worker adds to (under its
/// lock) only when a request brings a method, route or status it has not
/// seen. Held in an `Rc`, which cannot leave the worker's thread: the one
/// writer of its counts.
pub(super) struct WorkerSeries {
    mine: RefCell<Vec<Series>>,
    shared: Arc<Mutex<Vec<Series>>>,
}

/// Observations per bucket of [`LATENCY_BUCKETS`], written only by the
/// worker that owns them.
struct Durations {
    /// Not cumulative, and one more than [`LATENCY_BUCKETS`]: the last
    /// counts what is above them all. The count is their sum, so a scrape
    /// that reads them while the worker counts never sees a bucket hold
    /// more than `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    /// The `f64` sum, as bits.
    sum: AtomicU64,
}

impl Durations {
    fn new() -> Self {
        Durations {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0.0_f64.to_bits()),
        }
    }

    /// Adds one observation, with a load and a store for each number
    /// rather than read-modify-writes: only this worker writes them.
    fn observe(&self, seconds: f64) {
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(LATENCY_BUCKETS.len());
        let count = &self.buckets[bucket];
        count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed)) + seconds;
        self.sum.store(sum.to_bits(), Ordering::Relaxed);
    }

    fn read(&self) -> Totals {
        let read: [u64; LATENCY_BUCKETS.len() + 1] =
            std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed));
        Totals {
            buckets: std::array::from_fn(|i| read[i]),
            count: read.iter().sum(),
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
        }
    }
}

/// Durations added up over the workers.
struct Totals {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Totals {
    const EMPTY: Totals = Totals {
        buckets: [0; LATENCY_BUCKETS.len()],
        count: 0,
        sum: 0.0,
    };

    fn add(&mut self, other: &Totals) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum += other.sum;
    }

    fn proto(&self) -> proto::Histogram {
        let mut histogram = proto::Histogram::default();
        histogram.set_sample_count(self.count);
        histogram.set_sample_sum(self.sum);
        let mut cumulative = 0;
        histogram.set_bucket(
            LATENCY_BUCKETS
                .iter()
                .zip(self.buckets)
                .map(|(&le, count)| {
                    cumulative += count;
                    let mut bucket = proto::Bucket::default();
                    bucket.set_upper_bound(le);
                    bucket.set_cumulative_count(cumulative);
                    bucket
                })
                .collect(),
        );
        histogram
    }
}

/// The mutex's value, even if a thread panicked holding it: counts stay
/// usable.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl RequestSeries {
    pub(super) fn new() -> Result<Self, prometheus::Error> {
        let desc = |name: &str, label_names: &[&str]| {
            Desc::new(
                name.to_owned(),
                super::help(name).to_owned(),
                label_names.iter().map(|&l| l.to_owned()).collect(),
                HashMap::new(),
            )
        };
        Ok(RequestSeries(Arc::new(Shared {
            descs: [
                desc(
                    names::HTTP_SERVER_REQUEST_DURATION,
                    &[
                        labels::HTTP_REQUEST_METHOD,
                        labels::HTTP_ROUTE,
                        labels::HTTP_RESPONSE_STATUS_CODE,
                    ],
                )?,
                desc(
                    names::HTTP_SERVER_ACTIVE_REQUESTS,
                    &[labels::HTTP_REQUEST_METHOD, labels::HTTP_ROUTE],
                )?,
            ],
            workers: Mutex::default(),
        })))
    }

    /// The series of a new worker, to be counted only on the thread that
    /// calls this (actix builds each worker's app on the worker's thread,
    /// and runs its requests there).
    pub(super) fn worker(&self) -> Rc<WorkerSeries> {
        let shared = Arc::default();
        lock(&self.0.workers).push(Arc::clone(&shared));
        Rc::new(WorkerSeries {
            mine: RefCell::default(),
            shared,
        })
    }

    /// Every worker's counts added up, by labels.
    #[allow(clippy::type_complexity)]
    fn totals(
        &self,
    ) -> (
        BTreeMap<(&'static str, &'static str, StatusCode), Totals>,
        BTreeMap<(&'static str, &'static str), i64>,
    ) {
        let mut durations = BTreeMap::new();
        let mut active = BTreeMap::new();
        for worker in lock(&self.0.workers).iter() {
            for series in lock(worker).iter() {
                for (status, counts) in &series.durations {
                    durations
                        .entry((series.method, series.route, *status))
                        .or_insert(Totals::EMPTY)
                        .add(&counts.read());
                }
                *active.entry((series.method, series.route)).or_insert(0) +=
                    series.active.load(Ordering::Relaxed);
            }
        }
        (durations, active)
    }
}

impl WorkerSeries {
    /// Counts a request as active until the guard is finished or dropped.
    pub(super) fn in_flight(
        self: &Rc<Self>,
        method: &'static str,
        route: &'static str,
    ) -> InFlight {
        let slot = self.slot(method, route);
        self.add_active(slot, 1);
        InFlight {
            worker: self.clone(),
            slot,
            method,
            route,
            finished: false,
        }
    }

    /// Where the series of `method` and `route` are in this worker's list,
    /// added first if new. Found by the route's pointer first, since the
    /// middleware hands over one copy of each pattern, so most lookups
    /// compare no text.
    fn slot(&self, method: &'static str, route: &'static str) -> usize {
        let mine = self.mine.borrow();
        let found = mine
            .iter()
            .position(|s| std::ptr::eq(s.route, route) && s.method == method)
            .or_else(|| {
                mine.iter()
                    .position(|s| s.route == route && s.method == method)
            });
        drop(mine);
        found.unwrap_or_else(|| {
            let series = Series {
                method,
                route,
                active: Arc::default(),
                durations: Vec::new(),
            };
            lock(&self.shared).push(series.clone());
            let mut mine = self.mine.borrow_mut();
            mine.push(series);
            mine.len() - 1
        })
    }

    /// A load and a store, not a read-modify-write: only this worker
    /// writes the count.
    fn add_active(&self, slot: usize, delta: i64) {
        let active = &self.mine.borrow()[slot].active;
        active.store(active.load(Ordering::Relaxed) + delta, Ordering::Relaxed);
    }

    fn observe(&self, slot: usize, status: StatusCode, seconds: f64) {
        let mine = self.mine.borrow();
        if let Some((_, durations)) = mine[slot].durations.iter().find(|(s, _)| *s == status) {
            durations.observe(seconds);
            return;
        }
        drop(mine);
        let durations = Arc::new(Durations::new());
        durations.observe(seconds);
        lock(&self.shared)[slot]
            .durations
            .push((status, durations.clone()));
        self.mine.borrow_mut()[slot]
            .durations
            .push((status, durations));
    }
}

/// A request counted in `http_server_active_requests`. Finishing it records
/// its duration and takes it off in one go; dropping it unfinished (the
/// client went away and the handler future was dropped) only takes it off.
pub(super) struct InFlight {
    worker: Rc<WorkerSeries>,
    slot: usize,
    method: &'static str,
    route: &'static str,
    finished: bool,
}

impl InFlight {
    pub(super) fn method(&self) -> &'static str {
        self.method
    }

    pub(super) fn route(&self) -> &'static str {
        self.route
    }

    /// Records the request's answer; only the first call counts.
    pub(super) fn finish(&mut self, status: StatusCode, seconds: f64) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.worker.add_active(self.slot, -1);
        self.worker.observe(self.slot, status, seconds);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            self.worker.add_active(self.slot, -1);
        }
    }
}

impl Collector for RequestSeries {
    fn desc(&self) -> Vec<&Desc> {
        self.0.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (durations, active) = self.totals();
        let [duration_desc, active_desc] = &self.0.descs;
        let durations = durations
            .iter()
            .map(|((method, route, status), series)| {
                let mut metric = proto::Metric::from_label(label_pairs(&[
                    (labels::HTTP_REQUEST_METHOD, method),
                    (labels::HTTP_ROUTE, route),
                    (labels::HTTP_RESPONSE_STATUS_CODE, status.as_str()),
                ]));
                metric.set_histogram(series.proto());
                metric
            })
            .collect();
        let active = active
            .iter()
            .map(|((method, route), &value)| {
                let mut gauge = proto::Gauge::default();
                gauge.set_value(value as f64);
                let mut metric = proto::Metric::from_gauge(gauge);
                metric.set_label(label_pairs(&[
                    (labels::HTTP_REQUEST_METHOD, method),
                    (labels::HTTP_ROUTE, route),
                ]));
                metric
            })
            .collect();
        vec![
            family(duration_desc, MetricType::HISTOGRAM, durations),
            family(active_desc, MetricType::GAUGE, active),
        ]
    }
}

fn family(desc: &Desc, kind: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(desc.fq_name.clone());
    family.set_help(desc.help.clone());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

/// Label pairs sorted by name, as the `prometheus` crate's own vectors
/// make them.
fn label_pairs(pairs: &[(&str, &str)]) -> Vec<proto::LabelPair> {
    let mut pairs: Vec<proto::LabelPair> = pairs
        .iter()
        .map(|&(name, value)| {
            let mut pair = proto::LabelPair::default();
            pair.set_name(name.to_owned());
            pair.set_value(value.to_owned());
            pair
        })
        .collect();
    pairs.sort_by(|a, b| a.name().cmp(b.name()));
    pairs
}

#[cfg(test)]
mod tests {
    use prometheus::{Encoder, IntGaugeVec, TextEncoder};

    use super::*;

    /// The text a registry of `collectors` exposes.
    fn exposition(collectors: Vec<Box<dyn Collector>>) -> String {
        let registry = prometheus::Registry::new();
        for collector in collectors {
            registry.register(collector).unwrap();
        }
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&registry.gather(), &mut text)
            .unwrap();
        String::from_utf8(text).unwrap()
    }

    /// The same observations through the `prometheus` crate's own vectors.
    fn reference(
        observations: &[(&str, &str, String, f64)],
        active: &[(&str, &str, i64)],
    ) -> String {
        let histogram = super::super::histogram(
            names::HTTP_SERVER_REQUEST_DURATION,
            &[
                labels::HTTP_REQUEST_METHOD,
                labels::HTTP_ROUTE,
                labels::HTTP_RESPONSE_STATUS_CODE,
            ],
        )
        .unwrap();
        let gauge = IntGaugeVec::new(
            super::super::opts(names::HTTP_SERVER_ACTIVE_REQUESTS),
            &[labels::HTTP_REQUEST_METHOD, labels::HTTP_ROUTE],
        )
        .unwrap();
        for (method, route, status, seconds) in observations {
            histogram
                .with_label_values(&[method, route, status.as_str()])
                .observe(*seconds);
        }
        for (method, route, value) in active {
            gauge.with_label_values(&[method, route]).add(*value);
        }
        exposition(vec![Box::new(histogram), Box::new(gauge)])
    }

    #[test]
    fn counts_from_several_threads_add_up_to_what_the_prometheus_crate_would_expose() {
        let series = RequestSeries::new().unwrap();
        let product = "/product/{slug}";
        // The same pattern at another address: the same series.
        let product_again: &'static str = String::from(product).leak();
        let home = "/";
        let observations = [
            ("GET", product, StatusCode::OK, 0.004),
            ("GET", product_again, StatusCode::OK, 0.3),
            ("GET", product, StatusCode::SERVICE_UNAVAILABLE, 0.02),
            ("GET", home, StatusCode::OK, 99.0),
            ("POST", home, StatusCode::OK, 0.0),
        ];
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    // Each thread its own, as each worker has.
                    let series = series.worker();
                    for (method, route, status, seconds) in observations {
                        series.in_flight(method, route).finish(status, seconds);
                        // A request whose client went away: off again, unrecorded.
                        drop(series.in_flight(method, route));
                    }
                });
            }
        });
        let _still_running = series.worker().in_flight("GET", product);

        let expected_observations: Vec<_> = (0..3)
            .flat_map(|_| observations)
            .map(|(method, route, status, seconds)| {
                (method, route, status.as_u16().to_string(), seconds)
            })
            .collect();
        let expected = reference(
            &expected_observations,
            &[
                ("GET", "/product/{slug}", 1),
                ("GET", "/", 0),
                ("POST", "/", 0),
            ],
        );
        assert_eq!(exposition(vec![Box::new(series.clone())]), expected);
        assert!(expected.contains("http_server_active_requests{http_request_method=\"GET\",http_route=\"/product/{slug}\"} 1"));
    }
}
