//! The chaos crate's integration tests: one binary.

mod chaostoolkit;
mod cli;
mod experiments;
mod gameday;
mod helpers;
mod kubernetes;
mod process_kill;
mod proxy;
mod proxy_api;
mod safeguards;
mod shutdown;
mod validate;

/// Runs each named `async fn(Backend)` test once per backend, as
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )+};
}
