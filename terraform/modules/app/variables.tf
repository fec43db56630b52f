variable "overlay_path" {
  description = "Absolute path of the kustomize overlay to apply (k8s/overlays/local, production or local-chaos)."
  type        = string

  validation {
    condition     = startswith(var.overlay_path, "/") && fileexists("${var.overlay_path}/kustomization.yaml")
    error_message = "Give the absolute path of a directory holding a kustomization.yaml."
  }
}

variable "namespace" {
  description = "Namespace the overlay deploys into (k8s/base sets `shop`); the Secrets are created there."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "The namespace must be a DNS label."
  }
}

variable "images" {
  description = "Image overrides by the names the manifests use (shop, shop-loadgen, shop-chaos): repository, and a tag or a digest."
  type = map(object({
    name   = string
    tag    = optional(string)
    digest = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, v in var.images : contains(["shop", "shop-loadgen", "shop-chaos"], k) && (v.tag != null || v.digest != null)])
    error_message = "Keys must be shop, shop-loadgen or shop-chaos, and each needs a tag or a digest."
  }

  validation {
    condition     = alltrue([for v in values(var.images) : v.digest == null || can(regex("^sha256:[0-9a-f]{64}$", v.digest))])
    error_message = "A digest looks like sha256:<64 hex digits>."
  }
}

variable "host" {
  description = "Public host name of the shop; replaces the overlay's Ingress host and TLS host. null keeps the overlay's."
  type        = string
  default     = null

  validation {
    condition     = var.host == null || can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.host))
    error_message = "Give a fully qualified lowercase host name."
  }
}

variable "manage_secrets" {
  description = "Create shop-secrets and postgres-credentials with random values. Turn off where a secret manager (e.g. External Secrets) provides them."
  type        = bool
  default     = true

  validation {
    condition     = var.manage_secrets != null
    error_message = "Say true or false."
  }
}
