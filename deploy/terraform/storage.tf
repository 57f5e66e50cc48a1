# Buckets: uploads (users' files) and analytics (Parquet exports), plus one for access logs.

resource "aws_s3_bucket" "logs" {
  bucket = "${local.name}-access-logs-${data.aws_caller_identity.current.account_id}"
  #checkov:skip=CKV_AWS_18:this is the access-log bucket; logging it into itself loops
  #checkov:skip=CKV_AWS_144:access logs are not replicated across regions
  #checkov:skip=CKV2_AWS_62:nothing consumes events of the log bucket
  #checkov:skip=CKV_AWS_145:ALB access-log delivery supports SSE-S3 (AES256) only, not a KMS key
}

resource "aws_s3_bucket" "uploads" {
  bucket = "${local.name}-uploads-${data.aws_caller_identity.current.account_id}"
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice left to the account (docs/deploy.md)
  #checkov:skip=CKV2_AWS_62:the application, not S3 events, drives processing
}

resource "aws_s3_bucket" "analytics" {
  bucket = "${local.name}-analytics-${data.aws_caller_identity.current.account_id}"
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice left to the account (docs/deploy.md)
  #checkov:skip=CKV2_AWS_62:nothing consumes events of the analytics exports
}

locals {
  data_buckets = { uploads = aws_s3_bucket.uploads, analytics = aws_s3_bucket.analytics }
  buckets      = merge({ logs = aws_s3_bucket.logs }, local.data_buckets)
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.buckets
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = each.key == "logs" ? "AES256" : "aws:kms"
      kms_master_key_id = each.key == "logs" ? null : aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = local.data_buckets
  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  rule {
    id     = "tidy"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
    # Overwritten and deleted objects (including erased users' files) go for good after 30 days.
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    dynamic "transition" {
      for_each = each.key == "uploads" ? [] : [1]
      content {
        days          = 90
        storage_class = "STANDARD_IA"
      }
    }
    dynamic "expiration" {
      for_each = each.key == "logs" ? [1] : []
      content {
        days = 400
      }
    }
  }
}

resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 50 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 }
      action       = { type = "expire" }
    }]
  })
}
