//! `http_server_request_duration_seconds` and `http_server_active_requests`,
//! counted by each worker thread in its own series and added up at scrape.
//!
//! The `prometheus` crate's vectors find a series by hashing its label
//! values (SipHash) under a lock every worker shares, and count with atomics
//! every worker shares. Here each thread counts under a lock that only it
//! and the scrape ever take, and the exposition is the same (a test below
//! compares the two).

use std::{
    collections::{BTreeMap, HashMap},
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard},
};

use actix_web::http::StatusCode;
use prometheus::{
    core::{Collector, Desc},
    proto::{self, MetricFamily, MetricType},
};
use thread_local::ThreadLocal;

use crate::contract::metrics::{labels, names, LATENCY_BUCKETS};

/// The two request metrics of one app; clones share them.
#[derive(Clone)]
pub(super) struct RequestSeries(Arc<Shared>);

struct Shared {
    descs: [Desc; 2],
    threads: ThreadLocal<Mutex<Counts>>,
}

/// One thread's counts, by route pattern first (the key a request has at
/// hand), then by method and status (a handful per route).
#[derive(Default)]
struct Counts {
    /// A few dozen at most: route patterns are the app's own, not a
    /// client's. Found by pointer first, since the middleware hands over the
    /// one shared copy of each pattern, so most lookups compare no text.
    by_route: Vec<(Arc<str>, RouteCounts)>,
}

#[derive(Default)]
struct RouteCounts {
    durations: Vec<(&'static str, StatusCode, Durations)>,
    active: Vec<(&'static str, i64)>,
}

struct Durations {
    /// Observations per bucket of [`LATENCY_BUCKETS`], not cumulative; the
    /// `+Inf` bucket is `count`.
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Durations {
    const EMPTY: Durations = Durations {
        buckets: [0; LATENCY_BUCKETS.len()],
        count: 0,
        sum: 0.0,
    };

    fn observe(&mut self, seconds: f64) {
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|&le| seconds <= le) {
            self.buckets[bucket] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn add(&mut self, other: &Durations) {
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
            threads: ThreadLocal::new(),
        })))
    }

    fn mine(&self) -> MutexGuard<'_, Counts> {
        self.0
            .threads
            .get_or_default()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request as active until the guard is finished or dropped,
    /// on this thread (actix runs a request on the worker that accepted it).
    /// Each worker holds the series in an `Rc` of its own, so the guard (kept
    /// in the request's future) counts a reference no other thread touches.
    pub(super) fn in_flight(self: &Rc<Self>, method: &'static str, route: Arc<str>) -> InFlight {
        self.mine().route(&route).add_active(method, 1);
        InFlight {
            series: self.clone(),
            method,
            route,
            finished: false,
        }
    }

    /// Every thread's counts added up, by labels.
    #[allow(clippy::type_complexity)]
    fn totals(
        &self,
    ) -> (
        BTreeMap<(&'static str, Arc<str>, StatusCode), Durations>,
        BTreeMap<(&'static str, Arc<str>), i64>,
    ) {
        let mut durations = BTreeMap::new();
        let mut active = BTreeMap::new();
        for counts in self.0.threads.iter() {
            let counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            for (route, route_counts) in &counts.by_route {
                for (method, status, series) in &route_counts.durations {
                    durations
                        .entry((*method, route.clone(), *status))
                        .or_insert(Durations::EMPTY)
                        .add(series);
                }
                for (method, value) in &route_counts.active {
                    *active.entry((*method, route.clone())).or_insert(0) += value;
                }
            }
        }
        (durations, active)
    }
}

impl Counts {
    fn route(&mut self, route: &Arc<str>) -> &mut RouteCounts {
        let index = match self
            .by_route
            .iter()
            .position(|(known, _)| Arc::ptr_eq(known, route))
            .or_else(|| self.by_route.iter().position(|(known, _)| known == route))
        {
            Some(index) => index,
            None => {
                self.by_route.push((route.clone(), RouteCounts::default()));
                self.by_route.len() - 1
            }
        };
        &mut self.by_route[index].1
    }
}

impl RouteCounts {
    fn add_active(&mut self, method: &'static str, delta: i64) {
        match self.active.iter_mut().find(|(m, _)| *m == method) {
            Some((_, value)) => *value += delta,
            None => self.active.push((method, delta)),
        }
    }

    fn observe(&mut self, method: &'static str, status: StatusCode, seconds: f64) {
        let series = match self
            .durations
            .iter()
            .position(|(m, s, _)| *m == method && *s == status)
        {
            Some(index) => &mut self.durations[index].2,
            None => {
                self.durations.push((method, status, Durations::EMPTY));
                &mut self.durations.last_mut().expect("just pushed").2
            }
        };
        series.observe(seconds);
    }
}

/// A request counted in `http_server_active_requests`. Finishing it records
/// its duration and takes it off in one go; dropping it unfinished (the
/// client went away and the handler future was dropped) only takes it off.
pub(super) struct InFlight {
    series: Rc<RequestSeries>,
    method: &'static str,
    route: Arc<str>,
    finished: bool,
}

impl InFlight {
    pub(super) fn method(&self) -> &'static str {
        self.method
    }

    pub(super) fn route(&self) -> &str {
        &self.route
    }

    /// Records the request's answer; only the first call counts.
    pub(super) fn finish(&mut self, status: StatusCode, seconds: f64) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let mut counts = self.series.mine();
        let route = counts.route(&self.route);
        route.add_active(self.method, -1);
        route.observe(self.method, status, seconds);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            self.series
                .mine()
                .route(&self.route)
                .add_active(self.method, -1);
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
        let product: Arc<str> = "/product/{slug}".into();
        let home: Arc<str> = "/".into();
        let observations = [
            ("GET", &product, StatusCode::OK, 0.004),
            ("GET", &product, StatusCode::OK, 0.3),
            ("GET", &product, StatusCode::SERVICE_UNAVAILABLE, 0.02),
            ("GET", &home, StatusCode::OK, 99.0),
            ("POST", &home, StatusCode::OK, 0.0),
        ];
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    // Each thread its own Rc, as each worker has.
                    let series = Rc::new(series.clone());
                    for (method, route, status, seconds) in observations {
                        series
                            .in_flight(method, route.clone())
                            .finish(status, seconds);
                        // A request whose client went away: off again, unrecorded.
                        drop(series.in_flight(method, route.clone()));
                    }
                });
            }
        });
        let _still_running = Rc::new(series.clone()).in_flight("GET", product.clone());

        let expected_observations: Vec<_> = (0..3)
            .flat_map(|_| observations)
            .map(|(method, route, status, seconds)| {
                (method, &**route, status.as_u16().to_string(), seconds)
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
