output "objects" {
  description = "Kubernetes objects applied from the overlay, as kustomization ids (group_kind/namespace/name)."
  value       = sort(concat(tolist(data.kustomization_overlay.this.ids_prio[0]), tolist(data.kustomization_overlay.this.ids_prio[1]), tolist(data.kustomization_overlay.this.ids_prio[2])))
}

output "admin_token" {
  description = "Bearer token of the shop's fault API (for `shop-chaos run` and curl through `kubectl port-forward svc/shop-admin 8081`)."
  value       = random_password.admin_token.result
  sensitive   = true
}
