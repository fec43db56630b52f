variable "project_id" {
  description = "Google Cloud project that holds the cluster."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "Not a Google Cloud project ID."
  }
}

variable "name" {
  description = "Cluster name."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", var.name))
    error_message = "The name must be a lowercase DNS label of at most 40 characters."
  }
}

variable "region" {
  description = "Region of the regional cluster; nodes spread over its zones, which the shop's topology spread constraints use."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "Give a region such as europe-west1, not a zone."
  }
}

variable "network" {
  description = "Self link or name of the VPC network."
  type        = string

  validation {
    condition     = length(var.network) > 0
    error_message = "A network is required."
  }
}

variable "subnetwork" {
  description = "Self link or name of the subnetwork, which must carry the two secondary ranges below."
  type        = string

  validation {
    condition     = length(var.subnetwork) > 0
    error_message = "A subnetwork is required."
  }
}

variable "pods_range_name" {
  description = "Name of the subnetwork's secondary range for pod IPs (VPC-native cluster)."
  type        = string
  default     = "pods"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", var.pods_range_name))
    error_message = "Not a secondary range name."
  }
}

variable "services_range_name" {
  description = "Name of the subnetwork's secondary range for Service IPs."
  type        = string
  default     = "services"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", var.services_range_name))
    error_message = "Not a secondary range name."
  }
}

variable "master_ipv4_cidr_block" {
  description = "/28 range for the private control plane's endpoint."
  type        = string
  default     = "172.16.0.0/28"

  validation {
    condition     = can(cidrhost(var.master_ipv4_cidr_block, 0)) && endswith(var.master_ipv4_cidr_block, "/28")
    error_message = "The control plane range must be a /28 CIDR block."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the Kubernetes API (the operators' and CI's addresses)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))

  validation {
    condition     = length(var.master_authorized_networks) > 0 && alltrue([for n in var.master_authorized_networks : can(cidrhost(n.cidr_block, 0)) && n.cidr_block != "0.0.0.0/0"])
    error_message = "Give at least one CIDR block, and never 0.0.0.0/0."
  }
}

variable "release_channel" {
  description = "GKE release channel, which picks the Kubernetes version and upgrades it."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "The release channel must be RAPID, REGULAR or STABLE."
  }
}

variable "machine_type" {
  description = "Machine type of the node pool. The shop's pods limit 1 CPU each; e2-standard-4 fits three with the database and monitoring."
  type        = string
  default     = "e2-standard-4"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*-[a-z]+-[0-9]+$", var.machine_type))
    error_message = "Not a machine type (e.g. e2-standard-4)."
  }
}

variable "min_nodes_per_zone" {
  description = "Cluster autoscaler floor, per zone."
  type        = number
  default     = 1

  validation {
    condition     = var.min_nodes_per_zone >= 1 && var.min_nodes_per_zone <= 10
    error_message = "Between 1 and 10 nodes per zone."
  }
}

variable "max_nodes_per_zone" {
  description = "Cluster autoscaler ceiling, per zone: room for the HPA's maxReplicas spread over the zones."
  type        = number
  default     = 3

  validation {
    condition     = var.max_nodes_per_zone >= 1 && var.max_nodes_per_zone <= 20
    error_message = "Between 1 and 20 nodes per zone."
  }
}

variable "database_encryption_key" {
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) that encrypts Kubernetes Secrets in etcd."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.database_encryption_key))
    error_message = "Give a Cloud KMS crypto key resource name."
  }
}

variable "boot_disk_kms_key" {
  description = "Cloud KMS key that encrypts the nodes' boot disks (same format as database_encryption_key)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.boot_disk_kms_key))
    error_message = "Give a Cloud KMS crypto key resource name."
  }
}

variable "rbac_security_group" {
  description = "Google Groups for RBAC: the gke-security-groups@DOMAIN group whose member groups can be bound to Kubernetes roles."
  type        = string

  validation {
    condition     = can(regex("^gke-security-groups@[a-z0-9.-]+$", var.rbac_security_group))
    error_message = "The group must be named gke-security-groups@YOUR-DOMAIN."
  }
}

variable "labels" {
  description = "Labels for the cluster and its nodes (cost allocation, ownership)."
  type        = map(string)
  default     = { app = "shop" }

  validation {
    condition     = length(var.labels) > 0 && alltrue([for k, v in var.labels : can(regex("^[a-z][-_a-z0-9]{0,62}$", k)) && can(regex("^[-_a-z0-9]{0,63}$", v))])
    error_message = "Labels need lowercase keys and values (GCP label rules), and at least one label."
  }
}

variable "deletion_protection" {
  description = "Refuse `terraform destroy` of the cluster (turn off deliberately before tearing down)."
  type        = bool
  default     = true

  validation {
    condition     = var.deletion_protection != null
    error_message = "Say true or false."
  }
}
