# The same outputs as ../kind: environments configure their providers from
# these without knowing which implementation made the cluster.

locals {
  host = "https://${google_container_cluster.this.endpoint}"
  ca   = base64decode(google_container_cluster.this.master_auth[0].cluster_ca_certificate)
}

output "name" {
  description = "Cluster name."
  value       = google_container_cluster.this.name
}

output "host" {
  description = "URL of the Kubernetes API server."
  value       = local.host
}

output "cluster_ca_certificate" {
  description = "PEM certificate of the cluster's certificate authority."
  value       = local.ca
}

output "client_certificate" {
  description = "PEM client certificate for the API server; empty here: GKE issues none, a token is used."
  value       = ""
}

output "client_key" {
  description = "PEM key of the client certificate; empty here."
  value       = ""
  sensitive   = true
}

output "token" {
  description = "Bearer token for the API server: the caller's Google access token (valid for about an hour)."
  value       = data.google_client_config.current.access_token
  sensitive   = true
}

output "kubeconfig" {
  description = "A kubeconfig document for the cluster (for the kustomization provider and kubectl), carrying the access token."
  sensitive   = true
  value = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = var.name
    clusters        = [{ name = var.name, cluster = { server = local.host, certificate-authority-data = google_container_cluster.this.master_auth[0].cluster_ca_certificate } }]
    users           = [{ name = var.name, user = { token = data.google_client_config.current.access_token } }]
    contexts        = [{ name = var.name, context = { cluster = var.name, user = var.name } }]
  })
}

output "ingress_url" {
  description = "Where the ingress answers: empty here, as a cloud load balancer's address is known only once modules/ingress has created it."
  value       = ""
}
