terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
  # State lives in S3 with locking; the bucket and table are created once by hand (docs/deploy.md).
  backend "s3" {}
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      project     = "spendsense"
      environment = var.environment
      managed_by  = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
locals {
  name = "spendsense-${var.environment}"
  azs  = var.availability_zones
}
