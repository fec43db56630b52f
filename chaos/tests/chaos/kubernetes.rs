//! Kubernetes actions against a fake API server: `tower_test::mock::pair`
//! behind a real `kube::Client`, and an [`ApiServerVerifier`] that asserts
//! every request (method, path, query, body) and answers it, as kube-rs's
//! controller-rs does. A request the verifier does not expect fails the test.

use std::{collections::BTreeMap, time::Duration};

use chaos::{
    journal::{Journal, Status},
    runner::RunOptions,
};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{json, Value};
use tower_test::mock::{self, Handle};

use crate::helpers::run_yaml;

/// One request as the fake API server saw it.
struct Seen {
    method: Method,
    path: String,
    query: BTreeMap<String, String>,
    content_type: String,
    body: Value,
}

struct ApiServerVerifier(Handle<Request<Body>, Response<Body>>);

impl ApiServerVerifier {
    /// Takes the next request and answers it with `answer`.
    async fn next(&mut self, answer: Value) -> Seen {
        let (request, send) = tokio::time::timeout(Duration::from_secs(10), self.0.next_request())
            .await
            .expect("the client sent no request within 10 s")
            .expect("the client hung up");
        let uri = request.uri().clone();
        let query = reqwest::Url::parse(&format!("http://api{uri}"))
            .expect("a valid request URI")
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let method = request.method().clone();
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON request body")
        };
        send.send_response(
            Response::builder()
                .status(StatusCode::OK)
                .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                .unwrap(),
        );
        Seen {
            method,
            path: uri.path().to_owned(),
            query,
            content_type,
            body,
        }
    }

    /// No further request comes.
    async fn done(mut self) {
        let more = tokio::time::timeout(Duration::from_millis(300), self.0.next_request()).await;
        if let Ok(Some((request, _))) = more {
            panic!(
                "an unexpected request: {} {}",
                request.method(),
                request.uri()
            );
        }
    }
}

fn fake_cluster() -> (kube::Client, ApiServerVerifier) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    (
        kube::Client::new(service, "default"),
        ApiServerVerifier(handle),
    )
}

fn pod(name: &str, ready: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app.kubernetes.io/name": "shop"}},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
    })
}

fn pod_list(pods: &[Value]) -> Value {
    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods})
}

fn deployment(annotations: Value, resources: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "shop"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "shop"}, "annotations": annotations},
                "spec": {"containers": [
                    {"name": "sidecar", "image": "busybox"},
                    {"name": "shop", "image": "shop:1", "resources": resources}
                ]}
            }
        }
    })
}

fn scale(replicas: i32) -> Value {
    json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
           "metadata": {"name": "shop", "namespace": "shop"},
           "spec": {"replicas": replicas}, "status": {"replicas": replicas}})
}

fn experiment(method: &str) -> String {
    format!(
        r#"
title: Kubernetes action
configuration:
  kube_namespace: shop
blast-radius:
  namespaces: [shop]
  max-targets: 2
method:
  - type: action
    name: act
    provider: {method}
rollbacks:
  - type: action
    name: take-it-back
    provider: {{type: undo, action: act}}
"#
    )
}

async fn run_against(
    method: &str,
    verify: impl FnOnce(ApiServerVerifier) -> tokio::task::JoinHandle<()>,
) -> Journal {
    let (client, verifier) = fake_cluster();
    let server = verify(verifier);
    let options = RunOptions {
        kube_client: Some(client),
        ..RunOptions::default()
    };
    let journal = run_yaml(
        &experiment(method),
        &chaos::experiment::Vars::none(),
        options,
    )
    .await;
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the verifier finished")
        .expect("every request was the expected one");
    journal
}

#[tokio::test]
async fn deleting_pods_lists_by_selector_deletes_the_blast_radius_and_waits_for_readiness() {
    let names = ["shop-a", "shop-b", "shop-c", "shop-d"];
    let journal = run_against(
        "{type: k8s-delete-pods, selector: 'app.kubernetes.io/name=shop', targets: {mode: percent, value: 50}, grace_period_seconds: 0}",
        move |mut api| {
            tokio::spawn(async move {
                let listed: Vec<Value> = names.iter().map(|n| pod(n, *n != "shop-d")).collect();
                let list = api.next(pod_list(&listed)).await;
                assert_eq!((list.method, list.path.as_str()), (Method::GET, "/api/v1/namespaces/shop/pods"));
                assert_eq!(list.query.get("labelSelector").map(String::as_str), Some("app.kubernetes.io/name=shop"));

                // 50 % of 4 pods: exactly two deletes, of two different listed pods.
                let mut deleted = Vec::new();
                for _ in 0..2 {
                    let delete = api.next(pod("gone", false)).await;
                    assert_eq!(delete.method, Method::DELETE);
                    let name = delete.path.strip_prefix("/api/v1/namespaces/shop/pods/").expect("a pod path").to_owned();
                    assert!(names.contains(&name.as_str()), "deleted an unlisted pod {name}");
                    assert_eq!(delete.body["gracePeriodSeconds"], 0, "{}", delete.body);
                    deleted.push(name);
                }
                deleted.dedup();
                assert_eq!(deleted.len(), 2, "the same pod twice");

                // The rollback waits until 3 pods are ready again: first 2, then 3.
                let not_yet = api.next(pod_list(&[pod("shop-a", true), pod("shop-e", true), pod("shop-f", false)])).await;
                assert_eq!(not_yet.path, "/api/v1/namespaces/shop/pods");
                assert_eq!(not_yet.query.get("labelSelector").map(String::as_str), Some("app.kubernetes.io/name=shop"));
                let back = api.next(pod_list(&[pod("shop-a", true), pod("shop-e", true), pod("shop-f", true)])).await;
                assert_eq!(back.method, Method::GET);
                api.done().await;
            })
        },
    )
    .await;
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    let output = journal.run[0].output.as_ref().unwrap();
    assert_eq!(output["deleted"].as_array().unwrap().len(), 2);
    assert_eq!(output["ready_before"], 3);
    assert!(journal.rollbacks[0].ok(), "{}", journal.timeline());
}

#[tokio::test]
async fn a_blast_radius_too_small_for_the_selection_deletes_nothing() {
    let journal = run_against(
        "{type: k8s-delete-pods, selector: 'app.kubernetes.io/name=shop', targets: {mode: all}}",
        |mut api| {
            tokio::spawn(async move {
                let pods: Vec<Value> = (0..5).map(|i| pod(&format!("shop-{i}"), true)).collect();
                let list = api.next(pod_list(&pods)).await;
                assert_eq!(list.method, Method::GET);
                // No DELETE: 5 pods exceed max-targets 2. The rollback has nothing to undo.
                api.done().await;
            })
        },
    )
    .await;
    assert_eq!(journal.status, Status::Aborted, "{}", journal.timeline());
    assert!(journal
        .aborted
        .as_ref()
        .unwrap()
        .contains("more than blast-radius.max-targets (2)"));
    assert!(journal.rollbacks[0].ok());
}

#[tokio::test]
async fn scaling_patches_the_scale_subresource_and_the_rollback_restores_the_replicas() {
    let journal = run_against(
        "{type: k8s-scale, deployment: shop, replicas: 1}",
        |mut api| {
            tokio::spawn(async move {
                let get = api.next(scale(3)).await;
                assert_eq!(
                    (get.method, get.path.as_str()),
                    (
                        Method::GET,
                        "/apis/apps/v1/namespaces/shop/deployments/shop/scale"
                    )
                );
                let patch = api.next(scale(1)).await;
                assert_eq!(
                    (patch.method, patch.path.as_str()),
                    (
                        Method::PATCH,
                        "/apis/apps/v1/namespaces/shop/deployments/shop/scale"
                    )
                );
                assert_eq!(patch.content_type, "application/merge-patch+json");
                assert_eq!(patch.body, json!({"spec": {"replicas": 1}}));
                assert_eq!(
                    patch.query.get("fieldManager").map(String::as_str),
                    Some("chaos")
                );
                let undo = api.next(scale(3)).await;
                assert_eq!(
                    (undo.method, undo.path.as_str()),
                    (
                        Method::PATCH,
                        "/apis/apps/v1/namespaces/shop/deployments/shop/scale"
                    )
                );
                assert_eq!(undo.body, json!({"spec": {"replicas": 3}}));
                api.done().await;
            })
        },
    )
    .await;
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    assert_eq!(journal.run[0].output.as_ref().unwrap()["previous"], 3);
}

#[tokio::test]
async fn a_rollout_restart_sets_restarted_at_and_the_rollback_restores_it() {
    let journal = run_against(
        "{type: k8s-rollout-restart, deployment: shop}",
        |mut api| {
            tokio::spawn(async move {
                let before = json!({"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"});
                let get = api.next(deployment(before.clone(), json!({}))).await;
                assert_eq!(
                    (get.method, get.path.as_str()),
                    (
                        Method::GET,
                        "/apis/apps/v1/namespaces/shop/deployments/shop"
                    )
                );
                let patch = api.next(deployment(json!({}), json!({}))).await;
                assert_eq!(
                    (patch.method, patch.path.as_str()),
                    (
                        Method::PATCH,
                        "/apis/apps/v1/namespaces/shop/deployments/shop"
                    )
                );
                assert_eq!(patch.content_type, "application/merge-patch+json");
                let stamped = &patch.body["spec"]["template"]["metadata"]["annotations"]
                    ["kubectl.kubernetes.io/restartedAt"];
                assert!(
                    stamped
                        .as_str()
                        .is_some_and(|s| s != "2024-01-01T00:00:00Z"),
                    "{}",
                    patch.body
                );
                let undo = api.next(deployment(before.clone(), json!({}))).await;
                assert_eq!(undo.method, Method::PATCH);
                assert_eq!(
                    undo.body,
                    json!({"spec": {"template": {"metadata": {"annotations": before}}}})
                );
                api.done().await;
            })
        },
    )
    .await;
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
}

#[tokio::test]
async fn patching_resources_tests_the_container_and_the_rollback_puts_the_old_ones_back() {
    let journal = run_against(
        "{type: k8s-patch-resources, deployment: shop, container: shop, resources: {requests: {cpu: 50m}, limits: {cpu: 200m}}}",
        |mut api| {
            tokio::spawn(async move {
                let old = json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}});
                let get = api.next(deployment(json!({}), old.clone())).await;
                assert_eq!(get.method, Method::GET);
                let patch = api.next(deployment(json!({}), json!({}))).await;
                assert_eq!((patch.method, patch.path.as_str()), (Method::PATCH, "/apis/apps/v1/namespaces/shop/deployments/shop"));
                assert_eq!(patch.content_type, "application/json-patch+json");
                assert_eq!(
                    patch.body,
                    json!([
                        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "shop"},
                        {"op": "add", "path": "/spec/template/spec/containers/1/resources", "value": {
                            "requests": {"cpu": "50m", "memory": "128Mi"},
                            "limits": {"cpu": "200m", "memory": "256Mi"}
                        }}
                    ])
                );
                let undo = api.next(deployment(json!({}), old.clone())).await;
                assert_eq!(
                    undo.body,
                    json!([
                        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "shop"},
                        {"op": "add", "path": "/spec/template/spec/containers/1/resources", "value": old}
                    ])
                );
                api.done().await;
            })
        },
    )
    .await;
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
}
