# RDS PostgreSQL 16 and ElastiCache Redis.

resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = local.private_subnet_ids
}

resource "aws_db_parameter_group" "main" {
  name   = "${local.name}-pg16"
  family = "postgres16"
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }
}

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "aws_db_instance" "main" {
  identifier                          = local.name
  engine                              = "postgres"
  engine_version                      = "16"
  instance_class                      = var.db_instance_class
  allocated_storage                   = 50
  max_allocated_storage               = 500
  storage_type                        = "gp3"
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.main.arn
  db_name                             = "spendsense"
  username                            = "spendsense"
  password                            = random_password.db.result
  db_subnet_group_name                = aws_db_subnet_group.main.name
  vpc_security_group_ids              = [aws_security_group.data.id]
  parameter_group_name                = aws_db_parameter_group.main.name
  multi_az                            = var.db_multi_az
  publicly_accessible                 = false
  iam_database_authentication_enabled = true
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${local.name}-final"
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  # Daily snapshots kept 14 days, and point-in-time recovery from the continuously shipped
  # transaction logs (about 5 minutes behind): an RPO well under 15 minutes.
  backup_retention_period               = 14
  backup_window                         = "03:00-04:00"
  maintenance_window                    = "sun:04:30-sun:05:30"
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.main.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
}

resource "aws_db_instance" "replica" {
  count                                 = var.db_read_replica ? 1 : 0
  identifier                            = "${local.name}-replica"
  replicate_source_db                   = aws_db_instance.main.identifier
  instance_class                        = var.db_instance_class
  storage_encrypted                     = true
  kms_key_id                            = aws_kms_key.main.arn
  vpc_security_group_ids                = [aws_security_group.data.id]
  parameter_group_name                  = aws_db_parameter_group.main.name
  publicly_accessible                   = false
  iam_database_authentication_enabled   = true
  auto_minor_version_upgrade            = true
  copy_tags_to_snapshot                 = true
  skip_final_snapshot                   = true
  deletion_protection                   = true
  multi_az                              = false #checkov:skip=CKV_AWS_157:a read replica; the primary is multi-AZ
  enabled_cloudwatch_logs_exports       = ["postgresql"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.main.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
}

resource "aws_elasticache_subnet_group" "main" {
  name       = local.name
  subnet_ids = local.private_subnet_ids
}

resource "random_password" "redis" {
  length  = 64
  special = false
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id       = local.name
  description                = "${local.name} cache, throttles, deny-list and Celery broker"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.main.name
  security_group_ids         = [aws_security_group.data.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  snapshot_retention_limit   = 3
  auto_minor_version_upgrade = true
  apply_immediately          = false
}
