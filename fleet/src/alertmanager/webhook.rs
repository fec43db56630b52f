//! A webhook receiver: where a test's or a game day's Alertmanager delivers,
//! standing in for the pager or the ticket queue, and keeping every
//! notification with the time it arrived.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime},
};

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use serde::Deserialize;

use super::{Error, Result};

/// One webhook delivery: a group of alerts (Alertmanager's webhook payload, version 4).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Notification {
    pub receiver: String,
    /// `firing` while any alert of the group fires, else `resolved`.
    pub status: String,
    #[serde(rename = "groupLabels", default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(rename = "commonLabels", default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations", default)]
    pub common_annotations: BTreeMap<String, String>,
    pub alerts: Vec<NotifiedAlert>,
    /// When the webhook received it (not part of the payload).
    #[serde(skip, default = "SystemTime::now")]
    pub received_at: SystemTime,
}

impl Notification {
    /// A group label's value, `""` when absent.
    pub fn group_label(&self, name: &str) -> &str {
        self.group_labels.get(name).map_or("", String::as_str)
    }

    /// The `alertname` every alert of the notification shares, `""` when they differ.
    pub fn alertname(&self) -> &str {
        self.common_labels
            .get("alertname")
            .map_or("", String::as_str)
    }
}

/// One alert in a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NotifiedAlert {
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    #[serde(rename = "endsAt", default)]
    pub ends_at: String,
}

impl NotifiedAlert {
    /// A label's value, `""` when absent.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

#[derive(Debug, Default)]
struct Inbox {
    notifications: Mutex<Vec<Notification>>,
    refusing: AtomicBool,
}

/// A webhook receiver on a free loopback port; it stops when dropped.
#[derive(Debug)]
pub struct Webhook {
    url: String,
    inbox: Arc<Inbox>,
    server: tokio::task::JoinHandle<()>,
}

const POLL: Duration = Duration::from_millis(100);

impl Webhook {
    /// Starts listening; every POST to [`Webhook::url`] is a notification.
    pub async fn start() -> Result<Webhook> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Io("binding a webhook receiver".into(), e))?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::Io("binding a webhook receiver".into(), e))?;
        let inbox = Arc::new(Inbox::default());
        let router = Router::new()
            .route("/", post(receive))
            .with_state(inbox.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Webhook {
            url: format!("http://{address}/"),
            inbox,
            server,
        })
    }

    /// Where Alertmanager delivers, such as `http://127.0.0.1:34567/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answer 503 to every delivery from now on (`true`), as a pager service
    /// that is down would, or accept them again (`false`). Refused deliveries
    /// are not kept.
    pub fn refuse(&self, refusing: bool) {
        self.inbox.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Every notification received so far, oldest first.
    pub fn notifications(&self) -> Vec<Notification> {
        self.inbox
            .notifications
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Waits until a received notification satisfies `wanted`, and returns the
    /// first that does; after `timeout`, an error that names `what` and lists
    /// what was received.
    pub async fn wait_for(
        &self,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
        timeout: Duration,
    ) -> Result<Notification> {
        let started = Instant::now();
        loop {
            let received = self.notifications();
            if let Some(found) = received.iter().find(|n| wanted(n)) {
                return Ok(found.clone());
            }
            if started.elapsed() > timeout {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    timeout,
                    seen: summary(&received),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Json(notification): Json<Notification>,
) -> StatusCode {
    if inbox.refusing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    inbox
        .notifications
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(notification);
    StatusCode::OK
}

/// `receiver: status alertname (n alerts)`, one per notification.
pub(crate) fn summary(notifications: &[Notification]) -> String {
    if notifications.is_empty() {
        return "nothing".into();
    }
    notifications
        .iter()
        .map(|n| {
            format!(
                "{}: {} {} ({} alerts)",
                n.receiver,
                n.status,
                n.group_labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                n.alerts.len()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
