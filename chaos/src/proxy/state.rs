//! Every proxy of a fault proxy server: create, update, delete, toxics.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use tokio::{net::TcpListener, sync::watch};
use tokio_util::sync::CancellationToken;

use super::{
    link::{self, ToxicSet},
    metrics::ProxyMetrics,
    toxics::{self, ActiveToxic, ToxicKind},
};
use crate::toxiproxy::{ApiError, NewProxy, ProxyInfo, Stream, Toxic};

/// Every proxy, behind one lock that is never held across an await.
#[derive(Default)]
pub(crate) struct State {
    proxies: Mutex<BTreeMap<String, Entry>>,
    metrics: ProxyMetricsCell,
    next_uid: AtomicU64,
    pub(super) shutdown: CancellationToken,
}

struct ProxyMetricsCell(ProxyMetrics);

impl Default for ProxyMetricsCell {
    fn default() -> Self {
        ProxyMetricsCell(ProxyMetrics::new())
    }
}

struct Entry {
    listen: String,
    upstream: String,
    enabled: bool,
    toxics: Vec<ActiveToxic>,
    toxics_tx: watch::Sender<ToxicSet>,
    /// Cancelled to stop the listener and every link.
    running: Option<CancellationToken>,
}

/// A proxy's updatable fields (`POST /proxies/{name}`).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ProxyUpdate {
    listen: Option<String>,
    upstream: Option<String>,
    enabled: Option<bool>,
}

/// A toxic's updatable fields (`POST /proxies/{name}/toxics/{toxic}`).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ToxicUpdate {
    toxicity: Option<f32>,
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

fn error(status: u16, message: impl Into<String>) -> ApiError {
    ApiError {
        error: message.into(),
        status,
    }
}

fn not_found() -> ApiError {
    error(404, "proxy not found")
}

impl State {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.proxies
            .lock()
            .expect("the proxies lock is never poisoned")
    }

    fn metrics(&self) -> &ProxyMetrics {
        &self.metrics.0
    }

    fn info(name: &str, entry: &Entry) -> ProxyInfo {
        ProxyInfo {
            name: name.to_owned(),
            listen: entry.listen.clone(),
            upstream: entry.upstream.clone(),
            enabled: entry.enabled,
            toxics: entry.toxics.iter().map(ActiveToxic::to_wire).collect(),
        }
    }

    pub(crate) fn list(&self) -> BTreeMap<String, ProxyInfo> {
        self.lock()
            .iter()
            .map(|(name, entry)| (name.clone(), State::info(name, entry)))
            .collect()
    }

    pub(crate) fn get(&self, name: &str) -> Result<ProxyInfo, ApiError> {
        let proxies = self.lock();
        let entry = proxies.get(name).ok_or_else(not_found)?;
        Ok(State::info(name, entry))
    }

    pub(crate) fn create(&self, new: NewProxy) -> Result<ProxyInfo, ApiError> {
        if new.name.is_empty() {
            return Err(error(400, "missing required field: name"));
        }
        if new.upstream.is_empty() {
            return Err(error(400, "missing required field: upstream"));
        }
        let mut proxies = self.lock();
        if proxies.contains_key(&new.name) {
            return Err(error(409, "proxy already exists"));
        }
        let listen = if new.listen.is_empty() {
            "127.0.0.1:0".to_owned()
        } else {
            new.listen
        };
        let (toxics_tx, _) = watch::channel(Arc::new(Vec::new()));
        let mut entry = Entry {
            listen,
            upstream: new.upstream,
            enabled: false,
            toxics: Vec::new(),
            toxics_tx,
            running: None,
        };
        if new.enabled {
            self.start(&new.name, &mut entry)?;
        }
        self.metrics()
            .enabled
            .with_label_values(&[new.name.as_str()])
            .set(i64::from(entry.enabled));
        let info = State::info(&new.name, &entry);
        proxies.insert(new.name, entry);
        Ok(info)
    }

    /// Binds the listener and starts accepting. The listen address is
    /// updated to the bound one, so that a proxy made on port 0 comes back
    /// on the same port after being taken down.
    fn start(&self, name: &str, entry: &mut Entry) -> Result<(), ApiError> {
        let listener =
            bind(&entry.listen).map_err(|e| error(500, format!("listen {}: {e}", entry.listen)))?;
        let local = listener
            .local_addr()
            .map_err(|e| error(500, e.to_string()))?;
        entry.listen = local.to_string();
        let stop = self.shutdown.child_token();
        entry.running = Some(stop.clone());
        entry.enabled = true;
        let serve = Serve {
            name: name.to_owned(),
            listen: entry.listen.clone(),
            upstream: entry.upstream.clone(),
            toxics: entry.toxics_tx.subscribe(),
            metrics: self.metrics().clone(),
        };
        tokio::spawn(serve.run(listener, stop));
        Ok(())
    }

    fn stop(entry: &mut Entry) {
        if let Some(running) = entry.running.take() {
            running.cancel();
        }
        entry.enabled = false;
    }

    pub(crate) fn update(&self, name: &str, update: ProxyUpdate) -> Result<ProxyInfo, ApiError> {
        let mut proxies = self.lock();
        let entry = proxies.get_mut(name).ok_or_else(not_found)?;
        let moved = update.listen.as_ref().is_some_and(|l| *l != entry.listen)
            || update
                .upstream
                .as_ref()
                .is_some_and(|u| *u != entry.upstream);
        let enabled = update.enabled.unwrap_or(entry.enabled);
        if moved || !enabled {
            State::stop(entry);
        }
        if let Some(listen) = update.listen {
            entry.listen = listen;
        }
        if let Some(upstream) = update.upstream {
            entry.upstream = upstream;
        }
        let result = if enabled && entry.running.is_none() {
            self.start(name, entry)
        } else {
            Ok(())
        };
        self.metrics()
            .enabled
            .with_label_values(&[name])
            .set(i64::from(entry.enabled));
        result.map(|()| State::info(name, entry))
    }

    pub(crate) fn delete(&self, name: &str) -> Result<(), ApiError> {
        let mut entry = self.lock().remove(name).ok_or_else(not_found)?;
        State::stop(&mut entry);
        self.metrics().forget(name);
        Ok(())
    }

    pub(crate) fn toxics(&self, name: &str) -> Result<Vec<Toxic>, ApiError> {
        Ok(self.get(name)?.toxics)
    }

    pub(crate) fn toxic(&self, name: &str, toxic: &str) -> Result<Toxic, ApiError> {
        self.toxics(name)?
            .into_iter()
            .find(|t| t.name == toxic)
            .ok_or_else(|| error(404, "toxic not found"))
    }

    pub(crate) fn add_toxic(&self, name: &str, mut toxic: Toxic) -> Result<Toxic, ApiError> {
        let kind = ToxicKind::parse(&toxic.kind, &toxic.attributes).map_err(|message| {
            if message == "invalid toxic type" {
                error(400, message)
            } else {
                error(400, format!("bad request body: {message}"))
            }
        })?;
        if !(0.0..=1.0).contains(&toxic.toxicity) {
            return Err(error(
                400,
                "bad request body: toxicity must be between 0 and 1",
            ));
        }
        if toxic.name.is_empty() {
            toxic.name = format!("{}_{}", toxic.kind, toxic.stream.as_str());
        }
        let mut proxies = self.lock();
        let entry = proxies.get_mut(name).ok_or_else(not_found)?;
        if entry.toxics.iter().any(|t| t.name == toxic.name) {
            return Err(error(409, "toxic already exists"));
        }
        let active = ActiveToxic {
            uid: self.next_uid.fetch_add(1, Ordering::Relaxed),
            name: toxic.name,
            stream: toxic.stream,
            toxicity: toxic.toxicity,
            kind,
        };
        let shown = active.to_wire();
        entry.toxics.push(active);
        self.publish(name, entry);
        Ok(shown)
    }

    pub(crate) fn update_toxic(
        &self,
        name: &str,
        toxic: &str,
        update: ToxicUpdate,
    ) -> Result<Toxic, ApiError> {
        let mut proxies = self.lock();
        let entry = proxies.get_mut(name).ok_or_else(not_found)?;
        let existing = entry
            .toxics
            .iter_mut()
            .find(|t| t.name == toxic)
            .ok_or_else(|| error(404, "toxic not found"))?;
        let mut attributes = existing.kind.attributes();
        attributes.extend(update.attributes);
        let kind = ToxicKind::parse(existing.kind.type_name(), &attributes)
            .map_err(|m| error(400, format!("bad request body: {m}")))?;
        let toxicity = update.toxicity.unwrap_or(existing.toxicity);
        if !(0.0..=1.0).contains(&toxicity) {
            return Err(error(
                400,
                "bad request body: toxicity must be between 0 and 1",
            ));
        }
        existing.kind = kind;
        if toxicity != existing.toxicity {
            // A new roll for every link.
            existing.uid = self.next_uid.fetch_add(1, Ordering::Relaxed);
            existing.toxicity = toxicity;
        }
        let shown = existing.to_wire();
        self.publish(name, entry);
        Ok(shown)
    }

    pub(crate) fn remove_toxic(&self, name: &str, toxic: &str) -> Result<(), ApiError> {
        let mut proxies = self.lock();
        let entry = proxies.get_mut(name).ok_or_else(not_found)?;
        let before = entry.toxics.len();
        entry.toxics.retain(|t| t.name != toxic);
        if entry.toxics.len() == before {
            return Err(error(404, "toxic not found"));
        }
        self.publish(name, entry);
        Ok(())
    }

    /// Enables every proxy and removes every toxic.
    pub(crate) fn reset(&self) -> Result<(), ApiError> {
        let names: Vec<String> = self.lock().keys().cloned().collect();
        for name in names {
            if let Some(entry) = self.lock().get_mut(&name) {
                entry.toxics.clear();
                self.publish(&name, entry);
            }
            let update = ProxyUpdate {
                enabled: Some(true),
                ..ProxyUpdate::default()
            };
            match self.update(&name, update) {
                Ok(_) => {}
                Err(e) if e.status == 404 => {} // deleted meanwhile
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn publish(&self, name: &str, entry: &Entry) {
        entry.toxics_tx.send_replace(Arc::new(entry.toxics.clone()));
        for (kind, _) in toxics::TYPES {
            for stream in [Stream::Upstream, Stream::Downstream] {
                let n = entry
                    .toxics
                    .iter()
                    .filter(|t| t.kind.type_name() == *kind && t.stream == stream)
                    .count();
                self.metrics()
                    .toxics
                    .with_label_values(&[name, kind, stream.as_str()])
                    .set(n as i64);
            }
        }
    }

    pub(crate) fn render_metrics(&self) -> String {
        self.metrics().render()
    }
}

/// Binds a listening socket with SO_REUSEADDR, so that a proxy taken down
/// can listen again on its port while its old connections are in TIME_WAIT.
fn bind(address: &str) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let address = address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    })?;
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}

/// A proxy's accept loop.
struct Serve {
    name: String,
    listen: String,
    upstream: String,
    toxics: watch::Receiver<ToxicSet>,
    metrics: ProxyMetrics,
}

impl Serve {
    async fn run(self, listener: TcpListener, stop: CancellationToken) {
        loop {
            let accepted = tokio::select! {
                () = stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let client = match accepted {
                Ok((client, _)) => client,
                Err(error) => {
                    tracing::warn!(proxy = %self.name, %error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            self.metrics.accepted(&self.name);
            let counters = [Stream::Upstream, Stream::Downstream].map(|s| {
                self.metrics
                    .direction(s, &self.listen, &self.name, &self.upstream)
            });
            let (name, upstream, toxics, metrics, stop) = (
                self.name.clone(),
                self.upstream.clone(),
                self.toxics.clone(),
                self.metrics.clone(),
                stop.child_token(),
            );
            tokio::spawn(async move {
                let reason = link::run(client, &upstream, toxics, stop, counters).await;
                metrics.closed(&name, reason);
            });
        }
    }
}
