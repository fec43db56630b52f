//! The pod's CPU limit and request, read from the Deployment manifest the
//! cluster runs, so the measurement and the pod cannot drift apart.

use std::path::Path;

use fleet::cpu_limit::Cores;

use crate::error::{Error, Result};

/// The manifest `loadgen capacity` reads by default, from the workspace root.
pub const DEPLOYMENT: &str = "k8s/base/shop/deployment.yaml";

/// The container the shop runs in.
pub const CONTAINER: &str = "shop";

/// A pod's CPU resources, in cores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodCpu {
    pub limit: Cores,
    pub request: f64,
}

/// `resources.limits.cpu` and `resources.requests.cpu` of the `shop`
/// container of the Deployment in `path` (any document of a multi-document
/// file). The limit must be one this machine can give.
pub fn from_manifest(path: &Path) -> Result<PodCpu> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_yaml(&text).map_err(|why| Error::Usage(format!("{}: {why}", path.display())))
}

/// [`from_manifest`] on the manifest's text.
pub fn from_yaml(text: &str) -> Result<PodCpu, String> {
    use serde::Deserialize;
    for document in serde_yaml::Deserializer::from_str(text) {
        let doc = serde_yaml::Value::deserialize(document).map_err(|e| format!("not YAML: {e}"))?;
        if doc.get("kind").and_then(|k| k.as_str()) != Some("Deployment") {
            continue;
        }
        let containers = doc
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .and_then(|c| c.as_sequence())
            .ok_or("the Deployment has no spec.template.spec.containers")?;
        let container = containers
            .iter()
            .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(CONTAINER))
            .ok_or_else(|| format!("the Deployment has no container named {CONTAINER}"))?;
        let resources = container.get("resources");
        let read = |kind: &str| {
            let value = resources
                .and_then(|r| r.get(kind))
                .and_then(|r| r.get("cpu"))
                .ok_or_else(|| format!("container {CONTAINER} has no resources.{kind}.cpu"))?;
            match value {
                serde_yaml::Value::String(s) => Ok(s.clone()),
                serde_yaml::Value::Number(n) => Ok(n.to_string()),
                _ => Err(format!("resources.{kind}.cpu is not a CPU quantity")),
            }
        };
        let limit = read("limits")?;
        let limit = Cores::parse(&limit).map_err(|e| format!("resources.limits.cpu: {e}"))?;
        let request = quantity(&read("requests")?)?;
        return Ok(PodCpu { limit, request });
    }
    Err("no Deployment in the file".into())
}

/// A Kubernetes CPU quantity in cores: `250m`, `0.5`, `2`.
pub fn quantity(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let cores = match text.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().map(|m| m / 1000.0),
        None => text.parse::<f64>(),
    };
    match cores {
        Ok(c) if c.is_finite() && c > 0.0 => Ok(c),
        _ => Err(format!(
            "`{text}` is not a CPU quantity such as 250m or 0.5"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: sidecar
          resources: {limits: {cpu: 100m}, requests: {cpu: 10m}}
        - name: shop
          resources:
            requests: {cpu: 250m}
            limits: {cpu: "1"}
"#;

    #[test]
    fn the_shop_containers_limit_and_request_are_read_from_the_deployment() {
        let cpu = from_yaml(MANIFEST).unwrap();
        assert_eq!(cpu.limit.get(), 1.0);
        assert_eq!(cpu.request, 0.25);
    }

    #[test]
    fn the_shipped_deployment_names_a_limit_this_tool_can_read() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(DEPLOYMENT);
        let text = std::fs::read_to_string(path).unwrap();
        let cpu = from_yaml(&text).unwrap();
        // Equal, so that the measured capacity is the pod's on any node.
        assert_eq!(cpu.limit.get(), cpu.request);
    }

    #[test]
    fn a_limit_the_machine_cannot_give_is_refused() {
        let greedy = MANIFEST.replace("cpu: \"1\"", "cpu: \"4096\"");
        let error = from_yaml(&greedy).unwrap_err();
        assert!(error.contains("at most the machine's"), "{error}");
    }

    #[test]
    fn a_deployment_without_a_limit_says_what_is_missing() {
        let bare = MANIFEST.replace("limits: {cpu: \"1\"}", "limits: {memory: 1Gi}");
        assert_eq!(
            from_yaml(&bare).unwrap_err(),
            "container shop has no resources.limits.cpu"
        );
        assert_eq!(
            from_yaml("kind: Service").unwrap_err(),
            "no Deployment in the file"
        );
    }

    #[test]
    fn cpu_quantities_are_millicores_or_cores() {
        assert_eq!(quantity("250m"), Ok(0.25));
        assert_eq!(quantity("2"), Ok(2.0));
        assert!(quantity("fast").is_err());
        assert!(quantity("0").is_err());
    }
}
