output "namespace" {
  description = "Namespace of the monitoring stack."
  value       = helm_release.kube_prometheus_stack.namespace
}

output "prometheus_service" {
  description = "Prometheus' Service, for `kubectl port-forward` and for chaos experiments' Prometheus probes."
  value       = "kube-prometheus-stack-prometheus.${var.namespace}.svc:9090"
}

output "grafana_service" {
  description = "Grafana's Service, for `kubectl port-forward`."
  value       = "kube-prometheus-stack-grafana.${var.namespace}.svc:80"
}

output "grafana_admin_password" {
  description = "Grafana's admin password (user `admin`)."
  value       = random_password.grafana_admin.result
  sensitive   = true
}
