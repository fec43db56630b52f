# The same outputs as ../gke: environments configure their providers from
# these without knowing which implementation made the cluster.

output "name" {
  description = "Cluster name."
  value       = kind_cluster.this.name
}

output "host" {
  description = "URL of the Kubernetes API server."
  value       = kind_cluster.this.endpoint
}

output "cluster_ca_certificate" {
  description = "PEM certificate of the cluster's certificate authority."
  value       = kind_cluster.this.cluster_ca_certificate
}

output "client_certificate" {
  description = "PEM client certificate for the API server (kind: the admin's); empty where a token is used."
  value       = kind_cluster.this.client_certificate
}

output "client_key" {
  description = "PEM key of the client certificate; empty where a token is used."
  value       = kind_cluster.this.client_key
  sensitive   = true
}

output "token" {
  description = "Bearer token for the API server; empty where a client certificate is used."
  value       = ""
  sensitive   = true
}

output "kubeconfig" {
  description = "A kubeconfig document for the cluster (for the kustomization provider and kubectl)."
  value       = kind_cluster.this.kubeconfig
  sensitive   = true
}

output "ingress_url" {
  description = "Where the ingress controller answers from the host."
  value       = "http://127.0.0.1:${var.http_port}"
}
