# Traefik as the ingress controller, serving plain Kubernetes Ingress objects
# of class `ingress_class`.

resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = var.namespace
    labels = {
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

resource "helm_release" "traefik" {
  name       = "traefik"
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  repository = "https://traefik.github.io/charts"
  chart      = "traefik"
  version    = var.chart_version

  atomic          = true
  wait            = true
  timeout         = 600
  cleanup_on_fail = true

  values = [yamlencode({
    deployment = { replicas = var.replicas }
    ingressClass = {
      enabled        = true
      isDefaultClass = true
      name           = var.ingress_class
    }
    providers = {
      kubernetesIngress = { enabled = true }
      kubernetesCRD     = { enabled = false }
    }
    service = { type = var.service_type }
    ports = {
      web = merge(
        { exposedPort = 80 },
        var.service_type == "NodePort" ? { nodePort = var.http_node_port } : {},
      )
    }
    # The controller's own metrics, for the monitoring stack.
    metrics = { prometheus = { serviceMonitor = { enabled = false } } }
  })]
}
