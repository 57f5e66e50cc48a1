# Log groups (JSON lines from the app) and the alarms someone is paged for.

resource "aws_cloudwatch_log_group" "app" {
  for_each          = toset(["web", "worker", "beat", "migrate", "metrics"])
  name              = "/spendsense/${var.environment}/${each.key}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/spendsense/${var.environment}/vpc-flow"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "waf" {
  # WAF requires this prefix.
  name              = "aws-waf-logs-${local.name}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarms" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarms = {
    alb_5xx = {
      namespace  = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", statistic = "Sum", threshold = 10
      dimensions = { LoadBalancer = aws_lb.main.arn_suffix }
    }
    alb_p95 = {
      namespace  = "AWS/ApplicationELB", metric = "TargetResponseTime", statistic = "Average", threshold = 0.5
      dimensions = { LoadBalancer = aws_lb.main.arn_suffix }
    }
    unhealthy_hosts = {
      namespace  = "AWS/ApplicationELB", metric = "UnHealthyHostCount", statistic = "Maximum", threshold = 0
      dimensions = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.web.arn_suffix }
    }
    db_cpu = {
      namespace  = "AWS/RDS", metric = "CPUUtilization", statistic = "Average", threshold = 80
      dimensions = { DBInstanceIdentifier = aws_db_instance.main.identifier }
    }
    db_storage = {
      namespace  = "AWS/RDS", metric = "FreeStorageSpace", statistic = "Minimum", threshold = 5000000000
      dimensions = { DBInstanceIdentifier = aws_db_instance.main.identifier }
    }
    # The workers are at their maximum and still behind.
    queue_backlog = {
      namespace  = local.queue_metrics_namespace, metric = "QueueDepth", statistic = "Maximum"
      threshold  = var.worker_max_tasks * var.worker_backlog_per_task
      dimensions = { Environment = var.environment }
    }
    redis_memory = {
      namespace  = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", statistic = "Maximum", threshold = 80
      dimensions = { ReplicationGroupId = aws_elasticache_replication_group.main.id }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "main" {
  for_each            = local.alarms
  alarm_name          = "${local.name}-${each.key}"
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 2
  threshold           = each.value.threshold
  comparison_operator = each.key == "db_storage" ? "LessThanThreshold" : "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# No queue depth for 10 minutes: the publisher is down, and the workers no longer scale.
resource "aws_cloudwatch_metric_alarm" "queue_metrics_missing" {
  alarm_name          = "${local.name}-queue-metrics-missing"
  namespace           = local.queue_metrics_namespace
  metric_name         = "QueueDepth"
  dimensions          = { Environment = var.environment }
  statistic           = "SampleCount"
  period              = 300
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
