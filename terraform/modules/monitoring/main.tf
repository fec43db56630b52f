# kube-prometheus-stack: the Prometheus operator (which the shop's
# ServiceMonitor and PrometheusRules need), Prometheus, Alertmanager, Grafana
# with its dashboard sidecar, kube-state-metrics and node-exporter.

resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = var.namespace
    labels = {
      # node-exporter needs the host's network and PID namespaces.
      "pod-security.kubernetes.io/enforce" = "privileged"
    }
  }
}

resource "random_password" "grafana_admin" {
  length  = 32
  special = false
}

resource "kubernetes_secret_v1" "grafana_admin" {
  metadata {
    name      = "grafana-admin"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    admin-user     = "admin"
    admin-password = random_password.grafana_admin.result
  }
}

resource "helm_release" "kube_prometheus_stack" {
  name       = "kube-prometheus-stack"
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = var.chart_version

  atomic          = true
  wait            = true
  timeout         = 900
  cleanup_on_fail = true

  values = [
    file("${path.module}/values.yaml"),
    yamlencode({
      prometheus = {
        prometheusSpec = {
          retention = var.retention
          storageSpec = {
            volumeClaimTemplate = {
              spec = {
                accessModes = ["ReadWriteOnce"]
                resources   = { requests = { storage = var.storage_size } }
              }
            }
          }
        }
      }
      grafana      = { sidecar = { datasources = { uid = var.grafana_datasource_uid } } }
      alertmanager = { enabled = var.alertmanager_enabled }
    }),
  ]

  depends_on = [kubernetes_secret_v1.grafana_admin]
}
