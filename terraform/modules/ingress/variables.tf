variable "namespace" {
  description = "Namespace for the ingress controller."
  type        = string
  default     = "traefik"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "The namespace must be a DNS label."
  }
}

variable "chart_version" {
  description = "Version of the traefik Helm chart (https://traefik.github.io/charts)."
  type        = string
  default     = "35.0.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "Pin an exact chart version (x.y.z)."
  }
}

variable "service_type" {
  description = "NodePort on kind (published on the host by modules/cluster/kind), LoadBalancer on a cloud."
  type        = string
  default     = "LoadBalancer"

  validation {
    condition     = contains(["NodePort", "LoadBalancer"], var.service_type)
    error_message = "The service type must be NodePort or LoadBalancer."
  }
}

variable "http_node_port" {
  description = "NodePort of the HTTP entry point when service_type is NodePort (match modules/cluster/kind's ingress_node_port)."
  type        = number
  default     = 30080

  validation {
    condition     = var.http_node_port >= 30000 && var.http_node_port <= 32767
    error_message = "A NodePort must be within 30000-32767."
  }
}

variable "ingress_class" {
  description = "IngressClass the controller serves; k8s/base/shop/ingress.yaml names the same class."
  type        = string
  default     = "traefik"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.ingress_class))
    error_message = "The class must be a DNS label."
  }
}

variable "replicas" {
  description = "Ingress controller replicas."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 10
    error_message = "Between 1 and 10 replicas."
  }
}
