output "cluster_name" {
  description = "GKE cluster name (`gcloud container clusters get-credentials NAME --region REGION`)."
  value       = module.cluster.name
}

output "shop_url" {
  description = "The shop's public URL once DNS points at the ingress load balancer."
  value       = "https://${var.host}"
}

output "grafana_admin_password" {
  description = "Grafana's admin password (user admin)."
  value       = module.monitoring.grafana_admin_password
  sensitive   = true
}

output "admin_token" {
  description = "The shop's fault API token."
  value       = module.app.admin_token
  sensitive   = true
}
