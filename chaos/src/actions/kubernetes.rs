//! Kubernetes actions through the `kube` crate, each with its undo:
//!
//! | action | undo |
//! | --- | --- |
//! | delete pods by selector (one, count, percent, all) | wait until as many pods are ready as before |
//! | scale a deployment | scale it back |
//! | rollout restart (the `restartedAt` annotation, as kubectl does) | restore the annotation |
//! | patch a container's resources | put the old resources back |

use std::time::Duration;

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::{
    api::{DeleteParams, ListParams, Patch, PatchParams},
    Api, ResourceExt,
};
use rand::seq::SliceRandom;
use serde_json::{json, Value};

use crate::undo::{KubernetesUndo as Undo, UndoState};
use crate::{
    experiment::{DeletePods, PatchResources, RolloutRestart, Scale},
    journal::timestamp,
    runner::Context,
    Error, Result,
};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// The field manager of every change this crate makes.
pub const FIELD_MANAGER: &str = "chaos";

fn params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Deletes the chosen share of the pods the selector matches (pods already
/// terminating are not counted).
pub(crate) async fn delete_pods(ctx: &Context, action: &str, spec: &DeletePods) -> Result<Value> {
    let client = ctx.kube().await?;
    let namespace = ctx.namespace(spec.namespace.as_deref(), &client);
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let listed = pods
        .list(&ListParams::default().labels(&spec.selector))
        .await?;
    let live: Vec<&Pod> = listed
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    let ready_before = live.iter().filter(|p| is_ready(p)).count();
    let n = spec.targets.count(live.len());
    if n == 0 {
        return Err(Error::Api(format!(
            "no pod in {namespace} matches `{}`",
            spec.selector
        )));
    }
    if let Some(max) = ctx.blast_radius().max_targets {
        if n > max as usize {
            return Err(Error::Api(format!(
                "{n} pods would be deleted, more than blast-radius.max-targets ({max})"
            )));
        }
    }
    let names: Vec<String> = live.iter().map(|p| p.name_any()).collect();
    let mut chosen: Vec<String> = names
        .choose_multiple(&mut rand::thread_rng(), n)
        .cloned()
        .collect();
    chosen.sort();
    let delete = DeleteParams {
        grace_period_seconds: spec.grace_period_seconds,
        ..DeleteParams::default()
    };
    ctx.remember(
        action,
        UndoState::Kubernetes(Undo::PodsDeleted {
            namespace: namespace.clone(),
            selector: spec.selector.clone(),
            ready_before,
        }),
    );
    for name in &chosen {
        pods.delete(name, &delete).await?;
    }
    Ok(json!({
        "namespace": namespace,
        "selector": spec.selector,
        "matched": names,
        "deleted": chosen,
        "ready_before": ready_before,
    }))
}

pub(crate) async fn scale(ctx: &Context, action: &str, spec: &Scale) -> Result<Value> {
    let client = ctx.kube().await?;
    let namespace = ctx.namespace(spec.namespace.as_deref(), &client);
    let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
    let before = deployments.get_scale(&spec.deployment).await?;
    let previous = before.spec.and_then(|s| s.replicas).unwrap_or(0);
    let removed = previous.saturating_sub(spec.replicas).max(0) as u32;
    if let Some(max) = ctx.blast_radius().max_targets {
        if removed > max {
            return Err(Error::Api(format!(
                "scaling {} from {previous} to {} removes {removed} pods, more than \
                 blast-radius.max-targets ({max})",
                spec.deployment, spec.replicas
            )));
        }
    }
    set_replicas(&deployments, &spec.deployment, spec.replicas).await?;
    ctx.remember(
        action,
        UndoState::Kubernetes(Undo::Scaled {
            namespace: namespace.clone(),
            deployment: spec.deployment.clone(),
            replicas: previous,
        }),
    );
    Ok(json!({
        "namespace": namespace,
        "deployment": spec.deployment,
        "replicas": spec.replicas,
        "previous": previous,
    }))
}

async fn set_replicas(deployments: &Api<Deployment>, name: &str, replicas: i32) -> Result<()> {
    let patch = Patch::Merge(json!({ "spec": { "replicas": replicas } }));
    deployments.patch_scale(name, &params(), &patch).await?;
    Ok(())
}

/// What `kubectl rollout restart` does: a new `restartedAt` annotation on
/// the pod template, so that the deployment replaces every pod.
pub(crate) async fn rollout_restart(
    ctx: &Context,
    action: &str,
    spec: &RolloutRestart,
) -> Result<Value> {
    let client = ctx.kube().await?;
    let namespace = ctx.namespace(spec.namespace.as_deref(), &client);
    let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
    let deployment = deployments.get(&spec.deployment).await?;
    let previous = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT))
        .cloned();
    let now = timestamp(std::time::SystemTime::now());
    set_restarted_at(&deployments, &spec.deployment, Some(&now)).await?;
    ctx.remember(
        action,
        UndoState::Kubernetes(Undo::Restarted {
            namespace: namespace.clone(),
            deployment: spec.deployment.clone(),
            previous: previous.clone(),
        }),
    );
    Ok(json!({
        "namespace": namespace,
        "deployment": spec.deployment,
        "restarted_at": now,
        "previous": previous,
    }))
}

async fn set_restarted_at(
    deployments: &Api<Deployment>,
    name: &str,
    value: Option<&str>,
) -> Result<()> {
    // A merge patch: `null` removes the annotation.
    let patch = Patch::Merge(json!({
        "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: value } } } }
    }));
    deployments.patch(name, &params(), &patch).await?;
    Ok(())
}

/// Merges requests and limits over a container's resources, by a JSON patch
/// that first tests the container's name, so that a reordered pod template
/// is refused rather than the wrong container changed.
pub(crate) async fn patch_resources(
    ctx: &Context,
    action: &str,
    spec: &PatchResources,
) -> Result<Value> {
    let client = ctx.kube().await?;
    let namespace = ctx.namespace(spec.namespace.as_deref(), &client);
    let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
    let deployment = deployments.get(&spec.deployment).await?;
    let containers = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    let index = containers
        .iter()
        .position(|c| c.name == spec.container)
        .ok_or_else(|| {
            Error::Api(format!(
                "deployment {} has no container {}; it has {}",
                spec.deployment,
                spec.container,
                containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let previous = serde_json::to_value(&containers[index].resources)
        .ok()
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| json!({}));
    let mut merged = previous.clone();
    for (section, wanted) in [
        ("requests", &spec.resources.requests),
        ("limits", &spec.resources.limits),
    ] {
        for (name, quantity) in wanted {
            if !merged[section].is_object() {
                merged[section] = json!({});
            }
            merged[section][name] = json!(quantity);
        }
    }
    set_resources(
        &deployments,
        &spec.deployment,
        index,
        &spec.container,
        &merged,
    )
    .await?;
    ctx.remember(
        action,
        UndoState::Kubernetes(Undo::Resources {
            namespace: namespace.clone(),
            deployment: spec.deployment.clone(),
            index,
            container: spec.container.clone(),
            previous: previous.clone(),
        }),
    );
    Ok(json!({
        "namespace": namespace,
        "deployment": spec.deployment,
        "container": spec.container,
        "resources": merged,
        "previous": previous,
    }))
}

async fn set_resources(
    deployments: &Api<Deployment>,
    name: &str,
    index: usize,
    container: &str,
    resources: &Value,
) -> Result<()> {
    let base = format!("/spec/template/spec/containers/{index}");
    let patch: json_patch::Patch = serde_json::from_value(json!([
        { "op": "test", "path": format!("{base}/name"), "value": container },
        { "op": "add", "path": format!("{base}/resources"), "value": resources },
    ]))
    .map_err(|e| Error::Api(format!("building the JSON patch: {e}")))?;
    deployments
        .patch(name, &params(), &Patch::Json::<()>(patch))
        .await?;
    Ok(())
}

/// How long the undo of a pod deletion waits for the pods to come back.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const READY_POLL: Duration = Duration::from_secs(2);

pub(crate) async fn undo(ctx: &Context, undo: Undo) -> Result<Value> {
    let client = ctx.kube().await?;
    match undo {
        Undo::PodsDeleted {
            namespace,
            selector,
            ready_before,
        } => {
            let pods: Api<Pod> = Api::namespaced(client, &namespace);
            let started = tokio::time::Instant::now();
            loop {
                let listed = pods.list(&ListParams::default().labels(&selector)).await?;
                let ready = listed
                    .items
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p))
                    .count();
                if ready >= ready_before {
                    return Ok(json!({ "ready": ready, "wanted": ready_before }));
                }
                if started.elapsed() > READY_TIMEOUT {
                    return Err(Error::Api(format!(
                        "only {ready} of {ready_before} pods matching `{selector}` are ready \
                         after {READY_TIMEOUT:?}"
                    )));
                }
                tokio::time::sleep(READY_POLL).await;
            }
        }
        Undo::Scaled {
            namespace,
            deployment,
            replicas,
        } => {
            let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
            set_replicas(&deployments, &deployment, replicas).await?;
            Ok(json!({ "deployment": deployment, "replicas": replicas }))
        }
        Undo::Restarted {
            namespace,
            deployment,
            previous,
        } => {
            let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
            set_restarted_at(&deployments, &deployment, previous.as_deref()).await?;
            Ok(json!({ "deployment": deployment, "restored": previous }))
        }
        Undo::Resources {
            namespace,
            deployment,
            index,
            container,
            previous,
        } => {
            let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
            set_resources(&deployments, &deployment, index, &container, &previous).await?;
            Ok(json!({ "deployment": deployment, "container": container, "resources": previous }))
        }
    }
}
