//! Where the game day's alerts end: a real Alertmanager, loaded with the
//! shipped routing (`alerts/alertmanager.yml`), whose pager and ticket
//! receivers deliver to webhooks of the game day's own. Every delivery
//! becomes a timeline event, so each expectation is judged on what reached
//! a person, not only on the `ALERTS` series.

use std::{
    path::Path,
    sync::Mutex,
    time::{Duration, UNIX_EPOCH},
};

use anyhow::{Context as _, Result};
use fleet::alertmanager::{self, Alertmanager, Webhook};

use super::timeline::{EventKind, Timeline};

/// The receivers of `alerts/alertmanager.yml` that stand for people.
pub const PAGER: &str = "shop-pager";
pub const TICKETS: &str = "shop-tickets";

pub(crate) struct Receivers {
    alertmanager: Alertmanager,
    webhooks: [(&'static str, Webhook); 2],
    /// How many notifications of each webhook are already on the timeline.
    recorded: Mutex<[usize; 2]>,
}

impl Receivers {
    /// Starts the webhooks and Alertmanager with `config`'s routes and
    /// inhibitions, its pager and ticket receivers pointed at the webhooks,
    /// and its waits shortened to a second, as the rules' windows are.
    pub(crate) async fn start(config: &Path) -> Result<Receivers> {
        let pager = Webhook::start()
            .await
            .context("starting the pager webhook")?;
        let tickets = Webhook::start()
            .await
            .context("starting the ticket webhook")?;
        let second = Duration::from_secs(1);
        let loaded = alertmanager::Config::from_file(config)
            .and_then(|c| c.webhook_receivers([(PAGER, pager.url()), (TICKETS, tickets.url())]))
            .with_context(|| {
                format!(
                    "loading the Alertmanager configuration {}",
                    config.display()
                )
            })?
            .timing(second, second, Duration::from_secs(3600));
        let alertmanager = Alertmanager::start(loaded).await.with_context(|| {
            format!(
                "starting Alertmanager (Debian package prometheus-alertmanager) with {}",
                config.display()
            )
        })?;
        Ok(Receivers {
            alertmanager,
            webhooks: [(PAGER, pager), (TICKETS, tickets)],
            recorded: Mutex::new([0, 0]),
        })
    }

    /// Alertmanager's URL, for Prometheus' `alerting` section.
    pub(crate) fn url(&self) -> &str {
        self.alertmanager.url()
    }

    /// Puts every delivery not yet recorded on the timeline: one event per
    /// alert of each notification, at the time the webhook received it.
    pub(crate) fn record(&self, timeline: &Timeline) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        for (i, (receiver, webhook)) in self.webhooks.iter().enumerate() {
            let received = webhook.notifications();
            for notification in &received[recorded[i].min(received.len())..] {
                let at = notification
                    .received_at
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                for alert in &notification.alerts {
                    timeline.push_at(
                        at,
                        EventKind::Notification {
                            receiver: (*receiver).to_owned(),
                            alert: alert.label("alertname").to_owned(),
                            severity: alert.label("severity").to_owned(),
                            status: alert.status.clone(),
                        },
                    );
                }
            }
            recorded[i] = received.len();
        }
    }
}
