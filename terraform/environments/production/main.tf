# A managed cluster: GKE (modules/cluster/gke), Traefik behind a cloud load
# balancer, kube-prometheus-stack, and the shop from k8s/overlays/production
# with images pinned by digest.

module "cluster" {
  source = "../../modules/cluster/gke"

  project_id                 = var.project_id
  region                     = var.region
  network                    = var.network
  subnetwork                 = var.subnetwork
  master_authorized_networks = var.master_authorized_networks
  database_encryption_key    = var.kms_key
  boot_disk_kms_key          = var.kms_key
  rbac_security_group        = var.rbac_security_group
}

module "ingress" {
  source = "../../modules/ingress"

  service_type = "LoadBalancer"
  replicas     = 2

  depends_on = [module.cluster]
}

module "monitoring" {
  source = "../../modules/monitoring"

  storage_size = "50Gi"

  depends_on = [module.cluster]
}

module "app" {
  source = "../../modules/app"

  overlay_path = abspath("${path.module}/../../../k8s/overlays/production")
  host         = var.host
  images = {
    shop         = { name = "${var.image_repository}/shop", digest = var.shop_digest }
    shop-loadgen = { name = "${var.image_repository}/shop-loadgen", digest = var.loadgen_digest }
  }

  depends_on = [module.monitoring, module.ingress]
}
