environment       = "staging"
domain_name       = "api.staging.spendsense.example"
certificate_arn   = "arn:aws:acm:us-east-1:000000000000:certificate/staging-placeholder"
db_instance_class = "db.t4g.small"
db_multi_az       = false
redis_node_type   = "cache.t4g.micro"
web_min_tasks     = 2
web_max_tasks     = 4
