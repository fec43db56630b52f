output "shop_url" {
  description = "The shop through the ingress, from this machine: give it to `loadgen run --host`."
  value       = module.cluster.ingress_url
}

output "kubeconfig" {
  description = "kubeconfig of the kind cluster (`terraform output -raw kubeconfig > kubeconfig`); `kind export kubeconfig --name shop` does the same."
  value       = module.cluster.kubeconfig
  sensitive   = true
}

output "grafana_admin_password" {
  description = "Grafana's admin password (user admin)."
  value       = module.monitoring.grafana_admin_password
  sensitive   = true
}

output "admin_token" {
  description = "The shop's fault API token, for `shop-chaos run`."
  value       = module.app.admin_token
  sensitive   = true
}
