# The whole thing on one machine: a kind cluster, Traefik on a NodePort
# published at 127.0.0.1:http_port, kube-prometheus-stack, and the shop from
# k8s/overlays/local (or local-chaos) with locally built images.

locals {
  repo_root  = abspath("${path.module}/../../..")
  ingress_np = 30080
  overlay    = var.with_chaos_proxy ? "local-chaos" : "local"
}

module "cluster" {
  source = "../../modules/cluster/kind"

  name              = var.cluster_name
  workers           = var.workers
  http_port         = var.http_port
  ingress_node_port = local.ingress_np
}

module "ingress" {
  source = "../../modules/ingress"

  service_type   = "NodePort"
  http_node_port = local.ingress_np
  replicas       = 1
}

module "monitoring" {
  source = "../../modules/monitoring"

  storage_size = "5Gi"
}

# docker build + kind load. Re-run by changing image_tag (or with
# `terraform apply -replace='terraform_data.images[0]'`).
resource "terraform_data" "images" {
  count            = var.build_images ? 1 : 0
  triggers_replace = [var.image_tag, module.cluster.name, var.with_chaos_proxy]

  provisioner "local-exec" {
    command = "${path.module}/build-images.sh"
    environment = {
      REPO_ROOT    = local.repo_root
      CLUSTER_NAME = module.cluster.name
      IMAGE_TAG    = var.image_tag
      WITH_CHAOS   = var.with_chaos_proxy ? "1" : ""
    }
  }
}

module "app" {
  source = "../../modules/app"

  overlay_path = "${local.repo_root}/k8s/overlays/${local.overlay}"
  images = {
    shop         = { name = "shop", tag = var.image_tag }
    shop-loadgen = { name = "shop-loadgen", tag = var.image_tag }
    shop-chaos   = { name = "shop-chaos", tag = var.image_tag }
  }

  depends_on = [module.monitoring, module.ingress, terraform_data.images]
}
