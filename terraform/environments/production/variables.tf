variable "project_id" {
  description = "Google Cloud project for the cluster."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "Not a Google Cloud project ID."
  }
}

variable "region" {
  description = "Region of the cluster."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "Give a region such as europe-west1."
  }
}

variable "network" {
  description = "VPC network the cluster joins."
  type        = string

  validation {
    condition     = length(var.network) > 0
    error_message = "A network is required."
  }
}

variable "subnetwork" {
  description = "Subnetwork with secondary ranges `pods` and `services`."
  type        = string

  validation {
    condition     = length(var.subnetwork) > 0
    error_message = "A subnetwork is required."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))

  validation {
    condition     = length(var.master_authorized_networks) > 0
    error_message = "Give at least one CIDR block."
  }
}

variable "kms_key" {
  description = "Cloud KMS key for Secrets in etcd and for node boot disks."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key))
    error_message = "Give a Cloud KMS crypto key resource name."
  }
}

variable "rbac_security_group" {
  description = "The gke-security-groups@DOMAIN Google Group for RBAC."
  type        = string

  validation {
    condition     = can(regex("^gke-security-groups@", var.rbac_security_group))
    error_message = "The group must be named gke-security-groups@YOUR-DOMAIN."
  }
}

variable "image_repository" {
  description = "Registry path the images are pushed to, e.g. europe-west1-docker.pkg.dev/PROJECT/shop (images: shop, shop-loadgen)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$", var.image_repository))
    error_message = "Give a registry path without a trailing slash or tag."
  }
}

variable "shop_digest" {
  description = "Digest of the shop image to run (sha256:...), as pushed by the release pipeline. Digests, not tags, in production."
  type        = string

  validation {
    condition     = can(regex("^sha256:[0-9a-f]{64}$", var.shop_digest))
    error_message = "A digest looks like sha256:<64 hex digits>."
  }
}

variable "loadgen_digest" {
  description = "Digest of the shop-loadgen image for the (suspended) loadgen Job."
  type        = string

  validation {
    condition     = can(regex("^sha256:[0-9a-f]{64}$", var.loadgen_digest))
    error_message = "A digest looks like sha256:<64 hex digits>."
  }
}

variable "host" {
  description = "Public host name of the shop (DNS pointed at the ingress load balancer; TLS Secret shop-tls in namespace shop)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.host))
    error_message = "Give a fully qualified lowercase host name."
  }
}
