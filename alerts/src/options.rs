//! How rules are generated: the SLO period, the alerts' `for:` and where
//! their runbooks are. Every rule builder takes these; generating them is
//! [`crate::generate`]'s job.

use std::time::Duration;

use crate::{period::Period, Error, Result};

/// The default `runbook_url` prefix: the runbooks as the repository's web
/// page shows them, so that the link in a page or a chat message opens. The
/// one place this URL lives: the rules, the dashboards and the docs take it
/// from here; a fork passes `alerts generate --runbook-base-url`.
pub const DEFAULT_RUNBOOK_BASE_URL: &str =
    "https://github.com/b-seed-8f75a0dc/shop/blob/main/alerts/runbooks/";

/// Checks that `text` is an absolute http(s) URL and ends it with `/`, so
/// that `<AlertName>.md` can follow it.
pub fn parse_runbook_base_url(text: &str) -> Result<String> {
    let absolute = regex::Regex::new(r"^https?://[^/\s?#]+(/[^\s?#]*)?$").expect("a valid regex");
    if !absolute.is_match(text) {
        return Err(Error::RunbookBaseUrl(text.to_owned()));
    }
    let mut url = text.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// How to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub period: Period,
    /// `for:` of the page alerts. None by default: the short window already
    /// stops a blip from paging, and a `for:` only delays the page.
    pub page_for: Option<Duration>,
    /// `for:` of the ticket alerts.
    pub ticket_for: Option<Duration>,
    /// Prefix of every `runbook_url`; `<AlertName>.md` follows.
    pub runbook_base_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            period: Period::default(),
            page_for: None,
            ticket_for: None,
            runbook_base_url: DEFAULT_RUNBOOK_BASE_URL.to_owned(),
        }
    }
}

impl Options {
    /// The runbook of an alert.
    pub fn runbook_url(&self, alert: &str) -> String {
        format!("{}{alert}.md", self.runbook_base_url)
    }
}
