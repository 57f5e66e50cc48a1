output "alb_dns_name" {
  value = aws_lb.main.dns_name
}

output "ecr_repository_url" {
  value = aws_ecr_repository.app.repository_url
}

output "app_secret_name" {
  value = aws_secretsmanager_secret.app.name
}

output "db_endpoint" {
  value = aws_db_instance.main.address
}

output "mail_dkim_tokens" {
  description = "Publish each as a CNAME <token>._domainkey.<mail_domain> -> <token>.dkim.amazonses.com"
  value       = aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens
}
