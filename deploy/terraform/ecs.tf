# ECS Fargate: the web service behind the ALB (2 to 10 tasks, scaled on CPU and requests),
# the Celery workers (scaled on the queue's backlog per worker), beat, the queue-depth
# publisher, and a task definition for one-off migrations.

resource "aws_ecs_cluster" "main" {
  name = local.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
  environment = concat([
    { name = "DJANGO_DEBUG", value = "false" },
    { name = "DJANGO_ALLOWED_HOSTS", value = var.domain_name },
    { name = "CSRF_TRUSTED_ORIGINS", value = "https://${var.domain_name}" },
    { name = "TRUSTED_PROXY_COUNT", value = "1" },
    { name = "AWS_SECRETS_MANAGER_SECRET_ID", value = aws_secretsmanager_secret.app.name },
    { name = "AWS_STORAGE_BUCKET_NAME", value = aws_s3_bucket.uploads.bucket },
    { name = "AWS_S3_KMS_KEY_ID", value = aws_kms_key.main.arn },
    { name = "AWS_ANALYTICS_BUCKET_NAME", value = aws_s3_bucket.analytics.bucket },
    { name = "AWS_REGION", value = var.region },
    { name = "SMS_BACKEND", value = "sns" },
    { name = "EMAIL_BACKEND", value = "ses" },
    { name = "DEFAULT_FROM_EMAIL", value = "SpendSense <${local.mail_from}>" },
    { name = "AWS_SES_REGION_NAME", value = var.region },
    { name = "FRONTEND_URL", value = var.frontend_url },
    { name = "PASSWORD_BREACH_CHECK", value = "true" },
    { name = "QUEUE_METRICS_NAMESPACE", value = local.queue_metrics_namespace },
    { name = "QUEUE_METRICS_ENVIRONMENT", value = var.environment },
    ], var.db_read_replica ? [
    # Analytics, exports and the review queue read here (docs/decisions.md). No password in
    # the task definition: the app takes the primary's from DATABASE_URL (the secret), which
    # an RDS replica shares.
    {
      name  = "DATABASE_REPLICA_URL"
      value = "postgres://${aws_db_instance.main.username}@${aws_db_instance.replica[0].address}:5432/spendsense?sslmode=require"
    },
  ] : [])
  commands = {
    web     = ["gunicorn", "--config", "deploy/gunicorn.conf.py", "spendsense.wsgi:application"]
    worker  = ["celery", "-A", "spendsense", "worker", "--loglevel", "INFO", "--concurrency", "2"]
    beat    = ["celery", "-A", "spendsense", "beat", "--loglevel", "INFO", "--schedule", "/tmp/celerybeat-schedule"]
    migrate = ["python", "manage.py", "migrate", "--noinput"]
    # The queues' depth to CloudWatch each minute: its own service, so a backlog on the
    # workers cannot delay the figure the workers scale on (docs/decisions.md).
    metrics = ["python", "manage.py", "queue_depth", "--publish", "--every", "60"]
  }
  # Fargate's smallest size is plenty for one Redis read and one API call a minute.
  task_size = {
    web     = { cpu = var.web_cpu, memory = var.web_memory }
    metrics = { cpu = 256, memory = 512 }
  }
  queue_metrics_namespace = "SpendSense/Celery"
}

resource "aws_ecs_task_definition" "app" {
  for_each                 = local.commands
  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = lookup(local.task_size, each.key, { cpu = 512 }).cpu
  memory                   = lookup(local.task_size, each.key, { memory = 1024 }).memory
  execution_role_arn       = aws_iam_role.execution.arn
  # The publisher may put one namespace's metrics and read the secret, nothing else.
  task_role_arn = each.key == "metrics" ? aws_iam_role.metrics.arn : aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  volume {
    name = "tmp"
  }
  container_definitions = jsonencode([{
    name                   = each.key
    image                  = local.image
    command                = each.value
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001:10001"
    environment            = local.environment
    portMappings           = each.key == "web" ? [{ containerPort = 8000, protocol = "tcp" }] : []
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp" }]
    linuxParameters        = { initProcessEnabled = true }
    # A worker scaled in gets SIGTERM: Celery stops taking tasks and finishes those it runs
    # (acks_late redelivers any it cannot); Fargate allows at most 120 s before SIGKILL.
    stopTimeout = each.key == "worker" ? 120 : 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app[each.key].name
        awslogs-region        = var.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "web" {
  name                              = "${local.name}-web"
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.app["web"].arn
  desired_count                     = var.web_min_tasks
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.web.arn
    container_name   = "web"
    container_port   = 8000
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count] # CI deploys; autoscaling sizes
  }
  depends_on = [aws_lb_listener.https]
}

resource "aws_ecs_service" "background" {
  for_each               = { worker = var.worker_min_tasks, beat = 1, metrics = 1 }
  name                   = "${local.name}-${each.key}"
  cluster                = aws_ecs_cluster.main.id
  task_definition        = aws_ecs_task_definition.app[each.key].arn
  desired_count          = each.value
  launch_type            = "FARGATE"
  enable_execute_command = false
  propagate_tags         = "SERVICE"

  # Beat must never run twice (it would schedule everything twice).
  deployment_minimum_healthy_percent = each.key == "beat" ? 0 : 100
  deployment_maximum_percent         = each.key == "beat" ? 100 : 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  lifecycle {
    # CI deploys; autoscaling sizes the workers (beat and metrics are created with one
    # task and nothing scales them).
    ignore_changes = [task_definition, desired_count]
  }
}

# The services that scale, between their bounds: web on CPU and requests, workers on the queue.
locals {
  scaled = {
    web    = { service = aws_ecs_service.web.name, min = var.web_min_tasks, max = var.web_max_tasks }
    worker = { service = aws_ecs_service.background["worker"].name, min = var.worker_min_tasks, max = var.worker_max_tasks }
  }
}

resource "aws_appautoscaling_target" "service" {
  for_each           = local.scaled
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${each.value.service}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.min
  max_capacity       = each.value.max
}

moved {
  from = aws_appautoscaling_target.web
  to   = aws_appautoscaling_target.service["web"]
}

# Target tracking: web on CPU (60 %) and requests per target (1000); workers on the queue's
# backlog per running worker task (messages waiting, published each minute by the metrics
# service, over Container Insights' running task count) held near worker_backlog_per_task.
locals {
  scaling_policies = {
    web-cpu = {
      service = "web", target = 60, predefined = "ECSServiceAverageCPUUtilization", label = null
    }
    web-requests = {
      service = "web", target = 1000, predefined = "ALBRequestCountPerTarget"
      label   = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.web.arn_suffix}"
    }
    worker-backlog = {
      service = "worker", target = var.worker_backlog_per_task, predefined = null, label = null
    }
  }
}

resource "aws_appautoscaling_policy" "target" {
  for_each           = local.scaling_policies
  name               = "${local.name}-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.value.service].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.value.service].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.value.service].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    dynamic "predefined_metric_specification" {
      for_each = each.value.predefined == null ? [] : [each.value]
      content {
        predefined_metric_type = predefined_metric_specification.value.predefined
        resource_label         = predefined_metric_specification.value.label
      }
    }
    dynamic "customized_metric_specification" {
      for_each = each.value.predefined == null ? [each.value] : []
      content {
        metrics {
          id          = "waiting"
          return_data = false
          metric_stat {
            stat = "Maximum"
            metric {
              namespace   = local.queue_metrics_namespace
              metric_name = "QueueDepth"
              dimensions {
                name  = "Environment"
                value = var.environment
              }
            }
          }
        }
        metrics {
          id          = "workers"
          return_data = false
          metric_stat {
            stat = "Average"
            metric {
              namespace   = "ECS/ContainerInsights"
              metric_name = "RunningTaskCount"
              dimensions {
                name  = "ClusterName"
                value = aws_ecs_cluster.main.name
              }
              dimensions {
                name  = "ServiceName"
                value = aws_ecs_service.background["worker"].name
              }
            }
          }
        }
        metrics {
          id          = "backlog_per_worker"
          label       = "Celery messages waiting per running worker task"
          expression  = "waiting / workers"
          return_data = true
        }
      }
    }
  }
}

moved {
  from = aws_appautoscaling_policy.web_cpu
  to   = aws_appautoscaling_policy.target["web-cpu"]
}

moved {
  from = aws_appautoscaling_policy.web_requests
  to   = aws_appautoscaling_policy.target["web-requests"]
}
