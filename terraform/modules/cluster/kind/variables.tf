variable "name" {
  description = "Name of the kind cluster (also the prefix of its node containers)."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be a lowercase DNS label of at most 32 characters."
  }
}

variable "node_image" {
  description = "kindest/node image, which fixes the Kubernetes version (k8s/tests validates the manifests against 1.32 and newer)."
  type        = string
  default     = "kindest/node:v1.32.2"

  validation {
    condition     = can(regex("^kindest/node:v1\\.(3[2-9]|[4-9][0-9])\\.[0-9]+(@sha256:[0-9a-f]{64})?$", var.node_image))
    error_message = "Use a kindest/node image of Kubernetes 1.32 or newer (the manifests use the preStop sleep action)."
  }
}

variable "workers" {
  description = "Number of worker nodes besides the control plane; two or more let topology spreading and pod-kill experiments mean something."
  type        = number
  default     = 2

  validation {
    condition     = var.workers >= 0 && var.workers <= 5 && floor(var.workers) == var.workers
    error_message = "Workers must be a whole number from 0 to 5."
  }
}

variable "http_port" {
  description = "Port on the host's loopback interface that reaches the ingress controller's NodePort."
  type        = number
  default     = 8080

  validation {
    condition     = var.http_port >= 1024 && var.http_port <= 65535
    error_message = "Use an unprivileged port (1024-65535)."
  }
}

variable "ingress_node_port" {
  description = "NodePort of the ingress controller's HTTP entry point inside the cluster (modules/ingress uses the same number)."
  type        = number
  default     = 30080

  validation {
    condition     = var.ingress_node_port >= 30000 && var.ingress_node_port <= 32767
    error_message = "A NodePort must be within 30000-32767."
  }
}
