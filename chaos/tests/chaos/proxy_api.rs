//! The fault proxy's API against the request and response shapes that
//! Toxiproxy's README and api.go document.

use chaos::proxy::FaultProxy;
use serde_json::{json, Value};

use crate::helpers::{client, echo_server};

/// Request and response shapes as Toxiproxy's README and API document them.
#[tokio::test]
async fn the_api_speaks_toxiproxys_documented_shapes() {
    let upstream = echo_server().await;
    let proxy = FaultProxy::start("127.0.0.1:0").await.unwrap();
    let base = proxy.api_url();
    let http = client();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = http.request(method, format!("{base}{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            )
        }
    };
    use reqwest::Method as M;

    let (status, version) = call(M::GET, "/version", None).await;
    assert_eq!(status, 200);
    assert!(version["version"].is_string(), "{version}");

    let (status, created) = call(
        M::POST,
        "/proxies",
        Some(json!({"name": "db", "listen": "127.0.0.1:0", "upstream": upstream})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let mut keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["enabled", "listen", "name", "toxics", "upstream"]);
    assert_eq!(created["enabled"], true, "enabled defaults to true");
    assert_eq!(created["toxics"], json!([]));
    assert_ne!(
        created["listen"], "127.0.0.1:0",
        "port 0 is replaced by the bound port"
    );

    let (status, error) = call(
        M::POST,
        "/proxies",
        Some(json!({"name": "db", "upstream": upstream})),
    )
    .await;
    assert_eq!(
        (status, error),
        (409, json!({"error": "proxy already exists", "status": 409}))
    );
    let (status, error) = call(M::POST, "/proxies", Some(json!({"name": "x"}))).await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("missing required field: upstream"))
    );
    let (status, error) = call(M::POST, "/proxies", Some(json!("not an object"))).await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request body"),
        "{error}"
    );

    let (status, all) = call(M::GET, "/proxies", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        all["db"]["name"], "db",
        "GET /proxies is an object keyed by name: {all}"
    );

    let (status, toxic) = call(
        M::POST,
        "/proxies/db/toxics",
        Some(json!({"type": "latency", "attributes": {"latency": 100}})),
    )
    .await;
    assert_eq!(status, 200, "{toxic}");
    assert_eq!(
        toxic,
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream",
               "toxicity": 1.0, "attributes": {"latency": 100, "jitter": 0}}),
        "defaults: name <type>_<stream>, stream downstream, toxicity 1, every attribute shown"
    );
    let (status, error) = call(
        M::POST,
        "/proxies/db/toxics",
        Some(json!({"type": "latency", "attributes": {"latency": 5}})),
    )
    .await;
    assert_eq!(
        (status, error),
        (409, json!({"error": "toxic already exists", "status": 409}))
    );
    let (status, error) = call(M::POST, "/proxies/db/toxics", Some(json!({"type": "lag"}))).await;
    assert_eq!(
        (status, error),
        (400, json!({"error": "invalid toxic type", "status": 400}))
    );
    let (status, _) = call(
        M::POST,
        "/proxies/db/toxics",
        Some(json!({"type": "latency", "stream": "sideways"})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, updated) = call(
        M::POST,
        "/proxies/db/toxics/latency_downstream",
        Some(json!({"attributes": {"jitter": 10}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        updated["attributes"],
        json!({"latency": 100, "jitter": 10}),
        "an update merges attributes"
    );
    let (status, patched) = call(
        M::PATCH,
        "/proxies/db/toxics/latency_downstream",
        Some(json!({"toxicity": 0.5})),
    )
    .await;
    assert_eq!((status, &patched["toxicity"]), (200, &json!(0.5)));

    let (status, list) = call(M::GET, "/proxies/db/toxics", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, one) = call(M::GET, "/proxies/db/toxics/latency_downstream", None).await;
    assert_eq!((status, &one["type"]), (200, &json!("latency")));
    let (status, shown) = call(M::GET, "/proxies/db", None).await;
    assert_eq!(
        (status, &shown["toxics"][0]["name"]),
        (200, &json!("latency_downstream"))
    );

    let (status, down) = call(M::POST, "/proxies/db", Some(json!({"enabled": false}))).await;
    assert_eq!((status, &down["enabled"]), (200, &json!(false)));
    let (status, _) = call(M::POST, "/reset", None).await;
    assert_eq!(status, 204);
    let (_, reset) = call(M::GET, "/proxies/db", None).await;
    assert_eq!(
        (&reset["enabled"], &reset["toxics"]),
        (&json!(true), &json!([])),
        "reset enables and clears"
    );

    let (status, error) = call(M::GET, "/proxies/nope", None).await;
    assert_eq!(
        (status, error),
        (404, json!({"error": "proxy not found", "status": 404}))
    );
    let (status, error) = call(M::DELETE, "/proxies/db/toxics/nope", None).await;
    assert_eq!(
        (status, error),
        (404, json!({"error": "toxic not found", "status": 404}))
    );

    let (status, populated) = call(
        M::POST,
        "/populate",
        Some(json!([{"name": "db", "upstream": upstream}, {"name": "cache", "listen": "127.0.0.1:0", "upstream": upstream}])),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(populated["proxies"].as_array().unwrap().len(), 2);

    let (status, _) = call(M::DELETE, "/proxies/db", None).await;
    assert_eq!(status, 204);
    let (status, _) = call(M::DELETE, "/proxies/db", None).await;
    assert_eq!(status, 404);

    let browser = http
        .get(format!("{base}/proxies"))
        .header("User-Agent", "Mozilla/5.0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        browser.status().as_u16(),
        403,
        "browsers are turned away, as Toxiproxy does"
    );
}
