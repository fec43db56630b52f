//! A TCP fault proxy with Toxiproxy's HTTP API.
//!
//! Put it between the shop and its database, point the shop's
//! `DATABASE_URL` at the proxy's listen address, and add toxics (latency,
//! bandwidth, timeout, reset_peer, slicer, limit_data, slow_close) or take
//! the link down through the API — from an experiment, from
//! `toxiproxy-cli`, or from any Toxiproxy client.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use chaos::{proxy::FaultProxy, toxiproxy::NewProxy};
//! let proxy = FaultProxy::start("127.0.0.1:8474").await?;
//! let link = proxy.client().create_proxy(&NewProxy {
//!     name: "shop-db".into(),
//!     listen: "127.0.0.1:0".into(),
//!     upstream: "127.0.0.1:5432".into(),
//!     enabled: true,
//! }).await?;
//! println!("point DATABASE_URL at {}", link.listen);
//! # Ok(()) }
//! ```

use std::{net::SocketAddr, sync::Arc};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::toxiproxy::{ApiError, NewProxy, ProxyInfo, Toxiproxy};

mod api;
mod link;
pub mod metrics;
mod state;
pub mod toxics;

use state::State;

/// A running fault proxy: its API server and every proxy made through it.
/// Dropping it (or [`FaultProxy::shutdown`]) stops everything.
pub struct FaultProxy {
    api_addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl FaultProxy {
    /// Serves the API on `api_addr` (port 0 picks a free one).
    pub async fn start(api_addr: &str) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(api_addr).await?;
        let api_addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let router = api::router(state.clone());
        let shutdown = state.shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the fault proxy API stopped");
            }
        });
        tracing::info!(%api_addr, "fault proxy API listening");
        Ok(FaultProxy {
            api_addr,
            state,
            server,
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The API's base URL, `http://127.0.0.1:PORT`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// A client of this proxy's API.
    pub fn client(&self) -> Toxiproxy {
        Toxiproxy::new(self.api_url())
    }

    /// Creates a proxy without going through HTTP.
    pub fn create(&self, proxy: NewProxy) -> Result<ProxyInfo, ApiError> {
        self.state.create(proxy)
    }

    /// Waits until the API server stops (it stops on shutdown).
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }

    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
    }
}
