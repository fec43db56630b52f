//! Toxiproxy's HTTP API: its request and response bodies, and a client.
//!
//! The same types serve [`crate::proxy`], so the runner drives this crate's
//! fault proxy and a real Toxiproxy (in a cluster, say) unchanged. Shapes
//! follow Toxiproxy 2.x: a proxy is `{name, listen, upstream, enabled,
//! toxics}`, a toxic `{name, type, stream, toxicity, attributes}`, an error
//! `{error, status}`. Updates use `POST`, which every 2.x version accepts.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{Error, Result};

/// A proxy as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyInfo {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    #[serde(default)]
    pub toxics: Vec<Toxic>,
}

/// `POST /proxies` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProxy {
    #[serde(default)]
    pub name: String,
    /// `host:port`; port 0 picks a free one (the answer shows which).
    #[serde(default)]
    pub listen: String,
    #[serde(default)]
    pub upstream: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A toxic: what it does (`type` and `attributes`), to which direction, how
/// often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Toxic {
    /// Default `<type>_<stream>`.
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub stream: Stream,
    /// Probability that a connection gets this toxic (default 1).
    #[serde(default = "full")]
    pub toxicity: f32,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

fn full() -> f32 {
    1.0
}

/// `upstream`: client to server; `downstream`: server to client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    #[default]
    Downstream,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub status: u16,
}

/// A client of a Toxiproxy-compatible API.
#[derive(Debug, Clone)]
pub struct Toxiproxy {
    base: String,
    http: reqwest::Client,
}

impl Toxiproxy {
    /// `base` is the API's URL, such as `http://127.0.0.1:8474`.
    pub fn new(base: impl Into<String>) -> Toxiproxy {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain HTTP client builds");
        Toxiproxy::with_client(base, http)
    }

    pub fn with_client(base: impl Into<String>, http: reqwest::Client) -> Toxiproxy {
        Toxiproxy {
            base: base.into().trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub async fn version(&self) -> Result<String> {
        let v: Value = self.call(Method::GET, "/version", None).await?;
        Ok(v["version"].as_str().unwrap_or_default().to_owned())
    }

    pub async fn proxies(&self) -> Result<std::collections::BTreeMap<String, ProxyInfo>> {
        self.call(Method::GET, "/proxies", None).await
    }

    pub async fn proxy(&self, name: &str) -> Result<ProxyInfo> {
        self.call(Method::GET, &format!("/proxies/{name}"), None)
            .await
    }

    pub async fn create_proxy(&self, proxy: &NewProxy) -> Result<ProxyInfo> {
        self.call(Method::POST, "/proxies", Some(json!(proxy)))
            .await
    }

    pub async fn delete_proxy(&self, name: &str) -> Result<()> {
        self.call_empty(Method::DELETE, &format!("/proxies/{name}"))
            .await
    }

    /// Takes a proxy down (`false`) or brings it back (`true`).
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ProxyInfo> {
        self.call(
            Method::POST,
            &format!("/proxies/{name}"),
            Some(json!({ "enabled": enabled })),
        )
        .await
    }

    pub async fn add_toxic(&self, proxy: &str, toxic: &Toxic) -> Result<Toxic> {
        self.call(
            Method::POST,
            &format!("/proxies/{proxy}/toxics"),
            Some(json!(toxic)),
        )
        .await
    }

    pub async fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>> {
        self.call(Method::GET, &format!("/proxies/{proxy}/toxics"), None)
            .await
    }

    /// Removes a toxic; `false` when there was no such toxic (or proxy).
    pub async fn remove_toxic(&self, proxy: &str, toxic: &str) -> Result<bool> {
        match self
            .call_empty(Method::DELETE, &format!("/proxies/{proxy}/toxics/{toxic}"))
            .await
        {
            Ok(()) => Ok(true),
            Err(Error::Api(message)) if message.starts_with("404") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<()> {
        self.call_empty(Method::POST, "/reset").await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let response = self.send(method, path, body).await?;
        Ok(response.json().await?)
    }

    async fn call_empty(&self, method: Method, path: &str) -> Result<()> {
        self.send(method, path, None).await.map(drop)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ApiError>(text.trim())
            .map(|e| e.error)
            .unwrap_or(text);
        Err(Error::Api(format!(
            "{} {method} {url}: {}",
            status.as_u16(),
            if message.is_empty() {
                status.canonical_reason().unwrap_or_default().to_owned()
            } else {
                message
            }
        )))
    }
}

/// Whether an error is a 404 from the API.
pub fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Api(m) if m.starts_with(&StatusCode::NOT_FOUND.as_u16().to_string()))
}
