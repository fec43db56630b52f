variable "namespace" {
  description = "Namespace of the monitoring stack. k8s/base's NetworkPolicies admit the shop's admin port from the namespace named `monitoring` only."
  type        = string
  default     = "monitoring"

  validation {
    condition     = var.namespace == "monitoring"
    error_message = "The shop's NetworkPolicies name the `monitoring` namespace; change k8s/base/network-policies.yaml together with this."
  }
}

variable "chart_version" {
  description = "Version of the kube-prometheus-stack Helm chart (https://prometheus-community.github.io/helm-charts)."
  type        = string
  default     = "69.4.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "Pin an exact chart version (x.y.z)."
  }
}

variable "retention" {
  description = "How long Prometheus keeps samples. The SLO rules look back 30 days (slo:sli_error:ratio_rate30d), so keep at least that."
  type        = string
  default     = "31d"

  validation {
    condition     = can(regex("^[0-9]+d$", var.retention)) && tonumber(trimsuffix(var.retention, "d")) >= 30
    error_message = "Give whole days, at least 30d: the 30-day SLO windows need them."
  }
}

variable "storage_size" {
  description = "Size of Prometheus' persistent volume."
  type        = string
  default     = "20Gi"

  validation {
    condition     = can(regex("^[0-9]+Gi$", var.storage_size))
    error_message = "Give the size in Gi, e.g. 20Gi."
  }
}

variable "grafana_datasource_uid" {
  description = "UID of the provisioned Prometheus datasource; the dashboards in dashboards/generated refer to it (terraform/tests checks they agree)."
  type        = string
  default     = "prometheus"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.grafana_datasource_uid))
    error_message = "A Grafana UID is 1-40 letters, digits, - or _."
  }
}

variable "alertmanager_enabled" {
  description = "Run Alertmanager, routing the shop's alerts as alerts/alertmanager.yml says (pages to PagerDuty, tickets to the ticket bridge)."
  type        = bool
  default     = true

  validation {
    condition     = var.alertmanager_enabled != null
    error_message = "Say true or false."
  }
}

variable "pagerduty_routing_key" {
  description = "PagerDuty Events v2 routing key of the shop's pager service; stored in the Secret shop-alertmanager-receivers (key pagerduty-routing-key). Empty: pages are routed but PagerDuty refuses them (Alertmanager logs the failed notifications)."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9]*$", var.pagerduty_routing_key))
    error_message = "A PagerDuty routing key is letters and digits only (32 of them), or empty."
  }
}

variable "ticket_bridge_token" {
  description = "Bearer token Alertmanager presents to the ticket bridge's webhook; stored in the Secret shop-alertmanager-receivers (key ticket-bridge-token)."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = !can(regex("\\s", var.ticket_bridge_token))
    error_message = "The token must not contain whitespace or line breaks."
  }
}
