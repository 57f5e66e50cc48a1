variable "environment" {
  description = "staging or production"
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production"
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "availability_zones" {
  description = "Two zones for the subnets, named explicitly so the layout never shifts"
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "domain_name" {
  description = "The API's host name, e.g. api.spendsense.example"
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name"
  type        = string
}

variable "existing_vpc_id" {
  description = "Use this VPC instead of creating one (then give its subnets)"
  type        = string
  default     = ""
}

variable "existing_private_subnet_ids" {
  type    = list(string)
  default = []
}

variable "existing_public_subnet_ids" {
  type    = list(string)
  default = []
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "image_tag" {
  description = "The image the services start with; CI deploys later tags by task definition"
  type        = string
  default     = "bootstrap"
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "db_multi_az" {
  type    = bool
  default = true
}

variable "db_read_replica" {
  description = "Add a read replica (analytics, exports)"
  type        = bool
  default     = false
}

variable "redis_node_type" {
  type    = string
  default = "cache.t4g.small"
}

variable "web_cpu" {
  type    = number
  default = 1024
}

variable "web_memory" {
  type    = number
  default = 2048
}

variable "web_min_tasks" {
  type    = number
  default = 2
}

variable "web_max_tasks" {
  type    = number
  default = 10
}

variable "worker_min_tasks" {
  description = "Celery workers when the queue is empty (at least 1: the scaling metric divides by it)"
  type        = number
  default     = 1
  validation {
    condition     = var.worker_min_tasks >= 1
    error_message = "worker_min_tasks must be at least 1"
  }
}

variable "worker_max_tasks" {
  description = "Celery workers at most, however deep the queue (mind the database's connections)"
  type        = number
  default     = 10
}

variable "worker_backlog_per_task" {
  description = "Messages waiting per worker task the scaling holds (a task runs 2 at a time)"
  type        = number
  default     = 20
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes per client IP before WAF blocks it"
  type        = number
  default     = 2000
}

variable "alarm_email" {
  type    = string
  default = ""
}

variable "mail_domain" {
  description = "Domain mail is sent from (an SES identity; publish its DKIM records), e.g. spendsense.example"
  type        = string
}

variable "frontend_url" {
  description = "The web client's origin; mailed links point there, e.g. https://app.spendsense.example"
  type        = string
}
