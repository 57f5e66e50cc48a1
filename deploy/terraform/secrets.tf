# One secret per environment: a JSON object of the variables production reads at start-up
# (spendsense/env.py, load_secrets_manager). Values other than the generated ones are set by
# hand once (docs/deploy.md) and never stored in this repository or in Terraform state.

resource "random_password" "django" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  name                    = "${local.name}/app"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
  #checkov:skip=CKV2_AWS_57:keys rotate by runbook (docs/deploy.md): the JWT key rotation keeps the previous public key valid, which a rotation lambda cannot coordinate
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    DJANGO_SECRET_KEY = random_password.django.result
    DATABASE_URL      = "postgres://${aws_db_instance.main.username}:${random_password.db.result}@${aws_db_instance.main.address}:5432/spendsense?sslmode=require"
    REDIS_URL         = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.main.primary_endpoint_address}:6379/0"
    CELERY_BROKER_URL = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.main.primary_endpoint_address}:6379/1?ssl_cert_reqs=required"
  })
  # The JWT key and OAuth credentials are added to this secret by hand.
  lifecycle {
    ignore_changes = [secret_string]
  }
}
