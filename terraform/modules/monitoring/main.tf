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

# The receivers' secrets, as files Alertmanager reads when it notifies
# (alerts/alertmanager.yml names them under /etc/alertmanager/secrets/<name>/):
# never values in the Alertmanager configuration itself.
resource "kubernetes_secret_v1" "alertmanager_receivers" {
  metadata {
    name      = local.receivers_secret
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    pagerduty-routing-key = var.pagerduty_routing_key
    ticket-bridge-token   = var.ticket_bridge_token
  }
}

locals {
  # The one Alertmanager routing of the shop, as the tests load it.
  alertmanager_config = yamldecode(file("${path.module}/../../../alerts/alertmanager.yml"))
  receivers_secret    = "shop-alertmanager-receivers"
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
      grafana = { sidecar = { datasources = { uid = var.grafana_datasource_uid } } }
      alertmanager = {
        enabled = var.alertmanager_enabled
        # Replaces the chart's default routing (Helm replaces lists, so its
        # receivers, routes and inhibit_rules give way to the shop's).
        config = local.alertmanager_config
        alertmanagerSpec = {
          # Mounted at /etc/alertmanager/secrets/shop-alertmanager-receivers/.
          secrets = [kubernetes_secret_v1.alertmanager_receivers.metadata[0].name]
        }
      }
    }),
  ]

  depends_on = [kubernetes_secret_v1.grafana_admin, kubernetes_secret_v1.alertmanager_receivers]
}
