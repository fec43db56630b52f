# prometheus-adapter: serves the shop's request rate per pod on the custom
# metrics API (custom.metrics.k8s.io/v1beta1), the Pods metric
# http_server_requests_per_second that k8s/base/hpa.yaml scales on. Without
# it the HPA cannot read that metric and falls back to CPU alone.
#
# The rules are k8s/components/prometheus-adapter/config.yaml, the file
# loadgen's adapter test renders and evaluates against a real Prometheus.

variable "adapter_chart_version" {
  description = "Version of the prometheus-adapter Helm chart (https://prometheus-community.github.io/helm-charts)."
  type        = string
  default     = "4.11.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.adapter_chart_version))
    error_message = "Pin an exact chart version (x.y.z)."
  }
}

locals {
  adapter_config = yamldecode(file("${path.module}/../../../k8s/components/prometheus-adapter/config.yaml"))
}

resource "helm_release" "prometheus_adapter" {
  name       = "prometheus-adapter"
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "prometheus-adapter"
  version    = var.adapter_chart_version

  atomic          = true
  wait            = true
  timeout         = 600
  cleanup_on_fail = true

  values = [
    yamlencode({
      # kube-prometheus-stack's Prometheus Service: <release>-prometheus.
      prometheus = {
        url  = "http://${helm_release.kube_prometheus_stack.name}-prometheus.${var.namespace}.svc"
        port = 9090
      }
      rules = {
        # Only the shop's rule: the chart's defaults would serve every
        # container_* series as a metric too.
        default = false
        custom  = local.adapter_config.rules
      }
      replicas = 1
      resources = {
        requests = { cpu = "50m", memory = "64Mi" }
        limits   = { memory = "256Mi" }
      }
    }),
  ]
}
