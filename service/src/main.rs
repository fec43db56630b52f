use std::process::ExitCode;

use clap::Parser;
use shop::{
    configuration::{Settings, Telemetry},
    startup::Application,
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    let (traces, default_filter) = match settings.telemetry {
        Telemetry::On => match telemetry::TraceExport::from_env() {
            Ok(traces) => (traces, "info"),
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::FAILURE;
            }
        },
        // No spans are made below warn, so no access log and no export.
        Telemetry::Off => (None, "warn"),
    };
    let stdout = match telemetry::Stdout::new() {
        Ok(stdout) => stdout,
        Err(error) => {
            eprintln!("error: opening standard output for the log: {error}");
            return ExitCode::FAILURE;
        }
    };
    let subscriber = telemetry::get_subscriber_with_traces(
        default_filter,
        settings.log_format,
        stdout.clone(),
        traces.as_ref(),
    );
    if let Err(error) = telemetry::init_subscriber(subscriber) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    let code = match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the shop stopped with an error"
            );
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    };
    // The last spans, those of the drained requests, are still in the batch.
    if let Some(traces) = traces {
        match tokio::task::spawn_blocking(move || traces.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(error = format!("{error:#}"), "trace export"),
            Err(error) => tracing::warn!(%error, "trace export"),
        }
    }
    stdout.flush();
    code
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until_stopped().await
}
