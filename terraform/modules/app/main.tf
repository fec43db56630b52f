# The shop's kustomize overlay, applied object by object with the kbst
# kustomization provider, plus the Secrets the manifests only reference.
#
# Order: namespaces and CRDs (priority 0), then the Secrets, then everything
# else (1), then webhooks (2). The ServiceMonitor and PrometheusRules need the
# Prometheus operator's CRDs: apply modules/monitoring first.

data "kustomization_overlay" "this" {
  resources = [var.overlay_path]

  dynamic "images" {
    for_each = var.images
    content {
      name     = images.key
      new_name = images.value.name
      new_tag  = images.value.tag
      digest   = images.value.digest
    }
  }

  dynamic "patches" {
    for_each = var.host == null ? [] : [var.host]
    content {
      target {
        kind = "Ingress"
        name = "shop"
      }
      patch = yamlencode([
        { op = "replace", path = "/spec/rules/0/host", value = patches.value },
        { op = "add", path = "/spec/tls", value = [{ hosts = [patches.value], secretName = "shop-tls" }] },
      ])
    }
  }
}

resource "kustomization_resource" "p0" {
  for_each = data.kustomization_overlay.this.ids_prio[0]
  manifest = data.kustomization_overlay.this.manifests[each.value]
}

# Random values, stored only in Terraform's state and the cluster. The
# database URL carries the same password PostgreSQL is initialised with.
resource "random_password" "postgres" {
  length  = 32
  special = false
}

resource "random_password" "admin_token" {
  length  = 48
  special = false
}

# The shop signs and encrypts cookies with it and wants at least 64 bytes.
resource "random_password" "session_key" {
  length  = 96
  special = false
}

resource "kubernetes_secret_v1" "postgres" {
  count = var.manage_secrets ? 1 : 0
  metadata {
    name      = "postgres-credentials"
    namespace = var.namespace
  }
  data = {
    password = random_password.postgres.result
  }
  depends_on = [kustomization_resource.p0]
}

resource "kubernetes_secret_v1" "shop" {
  count = var.manage_secrets ? 1 : 0
  metadata {
    name      = "shop-secrets"
    namespace = var.namespace
  }
  data = {
    database-url = "postgres://shop:${random_password.postgres.result}@postgres:5432/shop"
    admin-token  = random_password.admin_token.result
    session-key  = random_password.session_key.result
  }
  depends_on = [kustomization_resource.p0]
}

# TLS between the shop and PostgreSQL (the production overlay runs the shop
# with PGSSLMODE=verify-full): a CA of the cluster's own and a server
# certificate naming the postgres Service, in cert-manager's Secret layout.
resource "tls_private_key" "postgres_ca" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "postgres_ca" {
  private_key_pem       = tls_private_key.postgres_ca.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 24 * 365 * 5
  allowed_uses          = ["cert_signing", "crl_signing"]
  subject {
    common_name = "shop PostgreSQL CA"
  }
}

resource "tls_private_key" "postgres" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "postgres" {
  private_key_pem = tls_private_key.postgres.private_key_pem
  dns_names = [
    "postgres",
    "postgres.${var.namespace}",
    "postgres.${var.namespace}.svc",
    "postgres.${var.namespace}.svc.cluster.local",
  ]
  subject {
    common_name = "postgres"
  }
}

resource "tls_locally_signed_cert" "postgres" {
  cert_request_pem      = tls_cert_request.postgres.cert_request_pem
  ca_private_key_pem    = tls_private_key.postgres_ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.postgres_ca.cert_pem
  validity_period_hours = 24 * 365
  early_renewal_hours   = 24 * 30
  allowed_uses          = ["digital_signature", "key_encipherment", "server_auth"]
}

resource "kubernetes_secret_v1" "postgres_tls" {
  count = var.manage_secrets ? 1 : 0
  metadata {
    name      = "postgres-tls"
    namespace = var.namespace
  }
  data = {
    "tls.crt" = tls_locally_signed_cert.postgres.cert_pem
    "tls.key" = tls_private_key.postgres.private_key_pem
    "ca.crt"  = tls_self_signed_cert.postgres_ca.cert_pem
  }
  depends_on = [kustomization_resource.p0]
}

resource "kustomization_resource" "p1" {
  for_each = data.kustomization_overlay.this.ids_prio[1]
  manifest = data.kustomization_overlay.this.manifests[each.value]
  wait     = true

  timeouts {
    create = "10m"
    update = "10m"
  }

  depends_on = [kustomization_resource.p0, kubernetes_secret_v1.postgres, kubernetes_secret_v1.shop, kubernetes_secret_v1.postgres_tls]
}

resource "kustomization_resource" "p2" {
  for_each = data.kustomization_overlay.this.ids_prio[2]
  manifest = data.kustomization_overlay.this.manifests[each.value]

  depends_on = [kustomization_resource.p1]
}
