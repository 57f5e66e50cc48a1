# Mail (accounts/mail.py, EMAIL_BACKEND=ses): the sending domain as an SES identity with Easy
# DKIM; the tasks may send from that one address and nothing else (iam.tf).

resource "aws_sesv2_email_identity" "mail" {
  email_identity = var.mail_domain
  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

locals {
  mail_from = "no-reply@${var.mail_domain}"
}
