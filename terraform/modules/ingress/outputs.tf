output "ingress_class" {
  description = "IngressClass served by the controller."
  value       = var.ingress_class
}

output "namespace" {
  description = "Namespace of the ingress controller: the shop's NetworkPolicy admits its public port from any namespace, this one included."
  value       = helm_release.traefik.namespace
}
