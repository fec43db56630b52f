//! Actions: they change something, remember how to take it back, and return
//! a JSON output for the journal.
//!
//! Every action that can be undone records an [`UndoState`] in the run's
//! context; a rollback `{type: undo, action: NAME}` takes back what the
//! method action `NAME` did (clear that fault, remove that toxic, restore
//! the replica count, ...), and is skipped when `NAME` never ran.

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::{experiment::Provider, runner::Context, undo::UndoState, Error, Result};

pub mod kubernetes;
pub mod process;
pub mod proxy;
pub mod shop;
pub mod stress;

/// Runs an action provider.
pub(crate) async fn act(
    ctx: &Context,
    name: &str,
    provider: &Provider,
    cancel: &CancellationToken,
) -> Result<Value> {
    match provider {
        Provider::ShopFault(fault) => shop::inject(ctx, name, &fault.fault).await,
        Provider::ShopFaultsClear(_) => shop::clear_all(ctx).await,
        Provider::ProxyToxic(toxic) => proxy::add_toxic(ctx, name, toxic).await,
        Provider::ProxyDown(p) => proxy::set_enabled(ctx, name, p, false).await,
        Provider::ProxyUp(p) => proxy::set_enabled(ctx, name, p, true).await,
        Provider::ProxyReset(p) => proxy::reset(ctx, p).await,
        Provider::ProcessSignal(signal) => process::signal(ctx, name, signal).await,
        Provider::K8sDeletePods(pods) => kubernetes::delete_pods(ctx, name, pods).await,
        Provider::K8sScale(scale) => kubernetes::scale(ctx, name, scale).await,
        Provider::K8sRolloutRestart(restart) => {
            kubernetes::rollout_restart(ctx, name, restart).await
        }
        Provider::K8sPatchResources(patch) => kubernetes::patch_resources(ctx, name, patch).await,
        Provider::CpuStress(stress) => stress::run(ctx, name, stress, cancel).await,
        Provider::Undo(undo) => self::undo(ctx, &undo.action).await,
        probe => Err(Error::Api(format!(
            "{} is a probe, not an action",
            probe.type_name()
        ))),
    }
}

/// Takes back what the method action `action` did.
pub(crate) async fn undo(ctx: &Context, action: &str) -> Result<Value> {
    let states = ctx.take(action);
    if states.is_empty() {
        return Ok(json!({"undone": [], "note": format!("`{action}` left nothing to undo")}));
    }
    let mut undone = Vec::new();
    let mut failures = Vec::new();
    for state in states {
        match undo_one(ctx, state).await {
            Ok(output) => undone.push(output),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if failures.is_empty() {
        Ok(json!({ "undone": undone }))
    } else {
        Err(Error::Api(format!(
            "undoing `{action}`: {}",
            failures.join("; ")
        )))
    }
}

async fn undo_one(ctx: &Context, state: UndoState) -> Result<Value> {
    match state {
        UndoState::ShopFault { admin_url, id } => shop::remove(ctx, &admin_url, &id).await,
        UndoState::Toxic { api, proxy, name } => {
            proxy::remove_toxic(ctx, &api, &proxy, &name).await
        }
        UndoState::ProxyEnabled {
            api,
            proxy,
            enabled,
        } => proxy::restore_enabled(ctx, &api, &proxy, enabled).await,
        UndoState::Stopped { pids } => process::resume(&pids),
        UndoState::Replaced { pid_file, killed } => {
            process::wait_for_replacement(&pid_file, &killed).await
        }
        UndoState::Kubernetes(undo) => kubernetes::undo(ctx, undo).await,
        UndoState::Stress(handle) => Ok(handle.stop()),
    }
}

/// Whether an activity has an undo recorded (for the dry-run plan and tests).
pub fn undoable(provider: &Provider) -> bool {
    matches!(
        provider,
        Provider::ShopFault(_)
            | Provider::ProxyToxic(_)
            | Provider::ProxyDown(_)
            | Provider::ProxyUp(_)
            | Provider::K8sDeletePods(_)
            | Provider::K8sScale(_)
            | Provider::K8sRolloutRestart(_)
            | Provider::K8sPatchResources(_)
            | Provider::CpuStress(_)
    ) || matches!(provider, Provider::ProcessSignal(s) if process::is_stop(&s.signal)
        || (process::is_kill(&s.signal) && s.pid_file.is_some()))
}
