//! SQLite calls polled with no current span, so that a query's span ends
//! when the shop has its answer.
//!
//! sqlx runs each SQLite connection on a thread of its own. With every
//! command it sends that thread the span current at the time, and the
//! thread stays in that span until the command is done, which can be after
//! the shop has its rows and has answered the request: the statement is
//! reset and the rest of its rows stepped over there. A span ends when it
//! is last left, so a query's span would end after the request's, which is
//! not what a client span means (the time the client waited), and a trace
//! would show its database call outlasting its request.
//!
//! While the call is polled the thread's default dispatcher is the no-op
//! one, so the span sqlx sends along is none. What sqlx logs on the
//! connection's thread (slow statements) still reaches the shop's
//! subscriber; what it would log while the shop waits for a pooled
//! connection does not.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;
use tracing::Dispatch;

pin_project! {
    /// A future polled outside every span when `outside` is set; as is
    /// otherwise.
    pub(super) struct OutsideSpans<F> {
        #[pin]
        inner: F,
        outside: bool,
    }
}

impl<F> OutsideSpans<F> {
    pub(super) fn new(inner: F, outside: bool) -> Self {
        OutsideSpans { inner, outside }
    }
}

impl<F: Future> Future for OutsideSpans<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.outside {
            let inner = this.inner;
            tracing::dispatcher::with_default(&Dispatch::none(), || inner.poll(cx))
        } else {
            this.inner.poll(cx)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        thread::{self, ThreadId},
    };

    use tracing::{span, Subscriber};
    use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};

    use crate::{configuration::Settings, metrics::Metrics, storage::Database};

    /// The threads on which a `db.query` span was entered.
    #[derive(Clone, Default)]
    struct QuerySpanEntries(Arc<Mutex<Vec<ThreadId>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for QuerySpanEntries {
        fn on_enter(&self, id: &span::Id, cx: Context<'_, S>) {
            if cx.span(id).is_some_and(|s| s.name() == "db.query") {
                self.0.lock().unwrap().push(thread::current().id());
            }
        }
    }

    #[tokio::test]
    async fn a_sqlite_query_span_is_entered_only_by_the_thread_that_waits_for_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/shop.db", dir.path().display());
        let metrics = Metrics::new().unwrap();
        let database = Database::connect(&Settings::ephemeral(&url), metrics.db).unwrap();
        let entries = QuerySpanEntries::default();
        let _default =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(entries.clone()));

        database.ping().await.unwrap();
        database.ping().await.unwrap();

        let threads = entries.0.lock().unwrap().clone();
        assert!(!threads.is_empty(), "the query span was never entered");
        assert!(
            threads.iter().all(|&t| t == thread::current().id()),
            "entered on {threads:?}, waited for on {:?}",
            thread::current().id()
        );
    }
}
