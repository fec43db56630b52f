variable "cluster_name" {
  description = "Name of the kind cluster."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$", var.cluster_name))
    error_message = "The name must be a lowercase DNS label of at most 32 characters."
  }
}

variable "workers" {
  description = "Worker nodes besides the control plane."
  type        = number
  default     = 2

  validation {
    condition     = var.workers >= 0 && var.workers <= 5
    error_message = "Workers must be 0 to 5."
  }
}

variable "http_port" {
  description = "Host port (127.0.0.1 only) where the shop's ingress answers."
  type        = number
  default     = 8080

  validation {
    condition     = var.http_port >= 1024 && var.http_port <= 65535
    error_message = "Use an unprivileged port (1024-65535)."
  }
}

variable "image_tag" {
  description = "Tag of the locally built images loaded into kind. Change it to roll out a new build."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "A Docker tag, and not `latest` (kind needs a fixed tag to use loaded images)."
  }
}

variable "build_images" {
  description = "Build the images with Docker and load them into kind during apply (build-images.sh). Off if you load them yourself."
  type        = bool
  default     = true

  validation {
    condition     = var.build_images != null
    error_message = "Say true or false."
  }
}

variable "with_chaos_proxy" {
  description = "Deploy the k8s/overlays/local-chaos overlay: the fault proxy on the shop's database link."
  type        = bool
  default     = false

  validation {
    condition     = var.with_chaos_proxy != null
    error_message = "Say true or false."
  }
}
