# ECS Fargate: the web service behind the ALB (2 to 10 tasks, scaled on CPU and requests),
# the Celery worker and beat, and a task definition for one-off migrations.

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
  }
}

resource "aws_ecs_task_definition" "app" {
  for_each                 = local.commands
  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.key == "web" ? var.web_cpu : 512
  memory                   = each.key == "web" ? var.web_memory : 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
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
  for_each               = { worker = var.worker_tasks, beat = 1 }
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
    ignore_changes = [task_definition]
  }
}

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.web_min_tasks
  max_capacity       = var.web_max_tasks
}

resource "aws_appautoscaling_policy" "web_cpu" {
  name               = "${local.name}-web-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = 60
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "web_requests" {
  name               = "${local.name}-web-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = 1000
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.web.arn_suffix}"
    }
  }
}
