"""SpendSense settings: one module, every value from the environment (12-factor).

Nothing set means *embedded development*: SQLite, a local-memory cache, local files, Celery
running tasks eagerly in-process, keys generated into ``var/``. ``DJANGO_DEBUG=false`` means
production and turns on the hardening of DESIGN §2. The variables are listed in README.md.

Over 400 lines on purpose: every knob has its default and the comment saying why beside
it, and reading the environment in one module is the rule (STYLE.md, rule 10).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from spendsense.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    load_secrets_manager,
    read_or_create,
)
from spendsense.storage import s3_storage

# Production reads its secrets (DJANGO_SECRET_KEY, DATABASE_URL, JWT_PRIVATE_KEY, ...) from
# AWS Secrets Manager before anything else is read.
SECRETS_LOADED = load_secrets_manager()

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of embedded mode (SQLite file, uploaded files, generated keys); git-ignored.
VAR_DIR = Path(env_str("SPENDSENSE_VAR_DIR") or BASE_DIR / "var")

# --- mode ------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", default=True)
PRODUCTION = not DEBUG

if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    # The same bar as Django's security.W009 check: long and not a repeated character.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to at least 50 characters (5 or more distinct) "
            "when DJANGO_DEBUG=false"
        )
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or read_or_create(
        VAR_DIR / "secret_key.txt", lambda: secrets.token_urlsafe(64)
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)

# --- applications ------------------------------------------------------------------------
INSTALLED_APPS = [
    "operator_console.apps.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "drf_standardized_errors",
    "storages",
    "rest_framework_api_key",
    # OAuth: allauth's provider implementations only (accounts/oauth/ drives them)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.facebook",
    "allauth.socialaccount.providers.apple",
    "accounts",
    "consent",
    "uploads",
    "recommendations",
    "operator_console.apps.OperatorConsoleConfig",
]

MIDDLEWARE = [
    "spendsense.api.middleware.RequestIdMiddleware",
    "spendsense.api.middleware.HealthCheckMiddleware",
    # Private API answers are never stored by a browser or proxy (Cache-Control: no-store).
    "spendsense.api.middleware.PrivateResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "spendsense.api.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, the session user and messages serve the console, not /api/v1/. (CSRF stays
    # Django's own everywhere: `check --deploy` asks for it, and API views are exempt.)
    "spendsense.api.middleware.ConsoleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "spendsense.api.middleware.ConsoleAuthenticationMiddleware",
    "spendsense.api.middleware.ConsoleMessageMiddleware",
    # A caller's successful write keeps their reads off the read replica for a while.
    "spendsense.api.replica.PinWritersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # allauth.account refuses to start without it; none of allauth's own views are routed
    "allauth.account.middleware.AccountMiddleware",
    # Last, like Django's FetchFromCacheMiddleware: cached reads of one's own insights skip
    # only routing and DRF's dispatch (recommendations/api/fast_reads.py).
    "recommendations.api.fast_reads.CachedReadMiddleware",
]

ROOT_URLCONF = "spendsense.urls"
WSGI_APPLICATION = "spendsense.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Paths have no trailing slash (DESIGN §3): never redirect to add one.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(
        DATABASE_URL,
        # Persistent connections with a health check before reuse: a connection that the
        # server or a failover closed is replaced instead of failing a request.
        conn_max_age=env_int("DB_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Fail fast when the server is unreachable (readiness checks, start-up).
        _db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", default=3)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue (up to `timeout` seconds)
    # instead of one failing with "database is locked" half-way through a transaction.
    _db.setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES = {"default": _db}
# A read replica (PostgreSQL streaming replica, e.g. RDS): analytics, exports and the review
# queue read there (spendsense/db.py says when); unset, everything reads from default.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", default=60),
            conn_health_checks=True,
        ),
        "OPTIONS": _db.get("OPTIONS", {}),
        "TEST": {"MIRROR": "default"},  # tests read the replica's alias from the test database
    }
    # An RDS replica shares the primary's users: a URL without a password (the task
    # definition's, deploy/terraform/ecs.tf) takes the primary's, which only the secret holds.
    DATABASES["replica"]["PASSWORD"] = DATABASES["replica"]["PASSWORD"] or _db.get("PASSWORD", "")
DATABASE_ROUTERS = ["spendsense.db.ReplicaRouter"]
# After a caller writes through a replica-reading API, their reads stay on default this long:
# longer than the replica's usual lag (RDS: well under a second), so they see their write.
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", default=10, minimum=0)

# --- cache (throttles, token deny-list, SMS codes) ---------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "spendsense"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Short timeouts: a Redis outage must surface in seconds, not hang workers.
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # Redis down means "cache miss", not "error": reads fall back to the
                # database, and each throttle decides for itself (spendsense/api/throttles.py).
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "spendsense",
        }
    }

# --- task queue --------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Without a broker tasks run in-process at enqueue time, even when REDIS_URL is set.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Eager tasks behave like queued ones: their failures are recorded (on the upload), their
# retries run, and the request that enqueued them is not failed by them.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Acknowledge after the task ran, and requeue when the worker dies: a crash mid-task means
# the task runs again (tasks are idempotent), never that it is lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=300, minimum=1)
# Redis/SQS redeliver an unacknowledged task after this many seconds. It must exceed the
# hard time limit (or a slow task is delivered twice) and stay in minutes, not the default
# hour, so a task of a killed worker is picked up again soon.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # (The floor of 5 s exists for the redelivery test; production keeps the default.)
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", default=600, minimum=5)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The queues' depth goes to CloudWatch (``manage.py queue_depth --publish``): the workers
# scale on it. The namespace is what the publisher's IAM policy allows, nothing else.
QUEUE_METRICS_NAMESPACE = env_str("QUEUE_METRICS_NAMESPACE", "SpendSense/Celery")
QUEUE_METRICS_ENVIRONMENT = env_str("QUEUE_METRICS_ENVIRONMENT", "local")
AWS_CLOUDWATCH_REGION_NAME = env_str("AWS_REGION") or env_str("AWS_DEFAULT_REGION", "us-east-1")
AWS_CLOUDWATCH_ENDPOINT_URL = env_str("AWS_CLOUDWATCH_ENDPOINT_URL") or None  # tests: moto
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-uploads": {
        "task": "uploads.requeue_stale",
        "schedule": 300,  # seconds; an upload whose task was never enqueued waits at most this
    },
    "rollup-analytics": {
        "task": "operator_console.rollup_analytics",
        "schedule": 900,  # seconds; yesterday is rolled up within 15 minutes of midnight UTC
    },
    "tally-analytics": {
        "task": "operator_console.tally_analytics",
        # seconds; a bucket a write changed is counted live (1/251 of the users each) until
        # then: a minute of recomputes, not a day of them, is what an analytics read recounts
        "schedule": 60,
    },
    "purge-expired-sessions": {
        "task": "accounts.tasks.purge_expired",
        "schedule": 6 * 3600,  # seconds; expired rows only cost space, a few runs a day is plenty
    },
}

# --- file storage ------------------------------------------------------------------------
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
# Where export_parquet writes (the default storage when unset).
AWS_ANALYTICS_BUCKET_NAME = env_str("AWS_ANALYTICS_BUCKET_NAME")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or env_str("AWS_DEFAULT_REGION", "us-east-1")
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = s3_storage(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        kms_key_id=env_str("AWS_S3_KMS_KEY_ID"),
        url_expire_seconds=env_int("AWS_S3_URL_EXPIRE_SECONDS", default=300, minimum=1),
    )
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
# Static files (the console, the API docs) are served by whitenoise from the image; hashed,
# compressed names in production (collectstatic runs when the image is built).
STATIC_MANIFEST = PRODUCTION or env_bool("DJANGO_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
# Development serves straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG
if not STATIC_MANIFEST:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- authentication ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["accounts.backends.RolePermissionBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# New passwords only (validators never run at sign-in: existing shorter ones still work).
PASSWORD_MIN_LENGTH = 12  # NIST SP 800-63B lets length, not composition rules, carry strength
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.BreachedPasswordValidator"},
]
# Refuse passwords found in Have I Been Pwned (k-anonymity range API; fails open with a
# log line). On in production; off in development, so offline work needs no network.
PASSWORD_BREACH_CHECK = env_bool("PASSWORD_BREACH_CHECK", default=PRODUCTION)
PASSWORD_BREACH_CHECK_TIMEOUT_SECONDS = 2  # a slow lookup must not hold a sign-up for long

# Staff (operators, admins) must set up a second factor before the console shows them data.
# On in production; off in development, so `make run` signs in with a password alone.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", default=PRODUCTION)

# --- tokens ------------------------------------------------------------------------------
# Access tokens: RS256 JWTs. Refresh tokens: opaque random strings, stored as SHA-256 hashes.
JWT_PRIVATE_KEY = env_str("JWT_PRIVATE_KEY").replace("\\n", "\n")
if not JWT_PRIVATE_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("JWT_PRIVATE_KEY (PEM) must be set when DJANGO_DEBUG=false")

    def _new_rsa_pem() -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    # Generated once, with an exclusive create, so parallel workers agree on one key.
    JWT_PRIVATE_KEY = read_or_create(VAR_DIR / "jwt_private_key.pem", _new_rsa_pem)
# Public keys (PEM, concatenated) of retired signing keys whose tokens are still accepted.
JWT_PREVIOUS_PUBLIC_KEYS = env_str("JWT_PREVIOUS_PUBLIC_KEYS").replace("\\n", "\n")
JWT_ISSUER = env_str("JWT_ISSUER", "spendsense")
JWT_AUDIENCE = env_str("JWT_AUDIENCE", "spendsense-api")
# Clock skew tolerated between servers when checking exp/iat.
JWT_LEEWAY_SECONDS = 10
ACCESS_TOKEN_LIFETIME_SECONDS = env_int("ACCESS_TOKEN_LIFETIME_SECONDS", default=3600, minimum=60)
# Sliding: each refresh issues a token valid this long from then.
REFRESH_TOKEN_LIFETIME_DAYS = env_int("REFRESH_TOKEN_LIFETIME_DAYS", default=30, minimum=1)
# A session's absolute lifetime: refreshing slides its expiry, but never past this many days
# after the sign-in, so a stolen refresh token cannot be kept alive forever.
SESSION_MAX_DAYS = env_int("SESSION_MAX_DAYS", default=90, minimum=1)
# Destructive actions (accounts/reauth.py) accept a sign-in this recent instead of the password.
REAUTHENTICATION_SECONDS = 600
# How long the API remembers whether a session is live; revocation writes through at once.
SESSION_STATE_CACHE_SECONDS = 300

# --- mail (accounts/mail.py: rendered on request, sent after commit by a Celery task) --------
# Development prints mail to the console; production sends through Amazon SES (boto3, the
# task role's credentials). ``file`` writes one file per message, for tests of a deployment.
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "ses": "django_ses.SESBackend",
}
_email_backend = env_str("EMAIL_BACKEND") or ("ses" if PRODUCTION else "console")
if _email_backend not in EMAIL_BACKENDS:
    raise ImproperlyConfigured(f"EMAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)}")
EMAIL_BACKEND = EMAIL_BACKENDS[_email_backend]
EMAIL_FILE_PATH = str(Path(env_str("EMAIL_FILE_PATH") or VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)  # credentials never travel in clear
EMAIL_TIMEOUT = 10  # a stuck SMTP server must not hold a worker; the task retries
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SpendSense <no-reply@spendsense.local>")
# SES region (and an endpoint only for a local fake such as moto's server).
AWS_SES_REGION_NAME = env_str("AWS_SES_REGION_NAME") or env_str("AWS_DEFAULT_REGION", "us-east-1")
# django-ses's own rate limiter asks SES for the quota (ses:GetSendQuota, which the task role
# lacks) and sleeps in the worker; our volume is low and the task retries with backoff.
AWS_SES_AUTO_THROTTLE = None
if env_str("AWS_SES_ENDPOINT_URL"):
    AWS_SES_REGION_ENDPOINT_URL = env_str("AWS_SES_ENDPOINT_URL")
# The web client's address: links in mail point there (it posts the key back to the API).
FRONTEND_URL = env_str("FRONTEND_URL", "http://localhost:3000").rstrip("/")
# How long a mailed key works: verification waits for a person to open their mail (3 days);
# a password reset key is a sign-in credential, so it lives one hour.
EMAIL_VERIFICATION_KEY_SECONDS = 3 * 24 * 3600
PASSWORD_RESET_KEY_SECONDS = 3600
# Mail delivery retries (exponential backoff, capped) before the task gives up and logs.
EMAIL_SEND_MAX_RETRIES = 5

# --- SMS sign-in codes ----------------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "console")  # console | file | sns
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH") or VAR_DIR / "sms")
# Against SMS pumping: only these countries (ISO 3166 codes) and a global daily budget.
SMS_ALLOWED_REGIONS = env_list("SMS_ALLOWED_REGIONS", ["US", "CA"])
SMS_DAILY_BUDGET = env_int("SMS_DAILY_BUDGET", default=1000, minimum=0)
SMS_CODE_TTL_SECONDS = 600
SMS_MAX_ATTEMPTS = 5
AWS_SNS_ENDPOINT_URL = env_str("AWS_SNS_ENDPOINT_URL") or None

# --- OAuth (accounts/oauth/; allauth's providers, our own state and tokens) --------------
# Credentials come from the environment (or Secrets Manager), never from the repo or the
# database; a provider without them answers 503.
OAUTH_PROVIDERS = ("google", "github", "facebook", "apple")
OAUTH_APPS: dict[str, dict[str, Any]] = {}
for _provider in ("google", "github", "facebook"):
    _id = env_str(f"OAUTH_{_provider.upper()}_CLIENT_ID")
    _secret = env_str(f"OAUTH_{_provider.upper()}_CLIENT_SECRET")
    if _id and _secret:
        OAUTH_APPS[_provider] = {"client_id": _id, "secret": _secret, "key": "", "settings": {}}
if all(
    env_str(f"OAUTH_APPLE_{part}") for part in ("CLIENT_ID", "TEAM_ID", "KEY_ID", "PRIVATE_KEY")
):
    # allauth's Apple client: secret = the key id, key = the team id, and the .p8 key.
    OAUTH_APPS["apple"] = {
        "client_id": env_str("OAUTH_APPLE_CLIENT_ID"),
        "secret": env_str("OAUTH_APPLE_KEY_ID"),
        "key": env_str("OAUTH_APPLE_TEAM_ID"),
        "settings": {"certificate_key": env_str("OAUTH_APPLE_PRIVATE_KEY").replace("\\n", "\n")},
    }
# Where clients may be sent back after the provider (exact matches: web origins' pages and
# mobile apps' custom schemes). The provider itself always returns to our own callback.
OAUTH_REDIRECT_URIS = env_list(
    "OAUTH_REDIRECT_URIS",
    ["http://localhost:3000/auth/callback", "spendsense://oauth/callback"] if DEBUG else [],
)
# The public origin of this API as registered with the providers (https://api.example.com);
# unset, the callback URL is built from the request.
OAUTH_CALLBACK_BASE_URL = env_str("OAUTH_CALLBACK_BASE_URL").rstrip("/")
OAUTH_STATE_SECONDS = 600
OAUTH_EXCHANGE_CODE_SECONDS = 60
SOCIALACCOUNT_ADAPTER = "accounts.oauth.providers.SocialAccountAdapter"
SOCIALACCOUNT_QUERY_EMAIL = True  # GitHub sends no email otherwise
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
SOCIALACCOUNT_PROVIDERS = {
    # PKCE (S256) wherever the provider supports it; Apple does not (it gets a nonce).
    "google": {"OAUTH_PKCE_ENABLED": True, "SCOPE": ["openid", "email", "profile"]},
    "github": {"OAUTH_PKCE_ENABLED": True},
    # Graph API versions retire after about two years; allauth's default (v19.0) has.
    "facebook": {"OAUTH_PKCE_ENABLED": True, "METHOD": "oauth2", "VERSION": "v23.0"},
    "apple": {"OAUTH_PKCE_ENABLED": False},
}
# allauth.account is installed for its models only; these keep its checks quiet.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]

# --- consent and data ---------------------------------------------------------------------
# The version of the consent text users agree to; a new text means asking again.
CONSENT_VERSION = env_str("CONSENT_VERSION", "2026-11-01")
UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # DESIGN §6: about 10,000 JSON transactions
UPLOAD_MAX_ERRORS = 1000  # validation errors listed per upload (the total is always counted)

# --- the engine (DESIGN §7): every threshold in one place -----------------------------------
ENGINE = {
    "windows": [30, 180],
    # Recurring detection looks back at least this far, whatever the window.
    "recurring_lookback_days": 90,
    "recurring_min_charges": 3,
    # cadence: (period in days, tolerance in days); every gap must fit.
    "recurring_cadences": {"weekly": (7, 2), "monthly": (30, 5)},
    "recurring_amount_tolerance": 0.20,  # each charge within 20 % of the merchant's median
    "utilization_flags": [0.30, 0.50, 0.80],
    "minimum_payment_tolerance": 0.05,  # a last payment within 5 % of the minimum is "minimum only"
    "income_lookback_days": 90,  # pay gaps need more than a 30-day window to be seen
    # Essentials: recurring charges here are bills (rent, utilities, phone and internet,
    # insurance, childcare, tuition, medical care, taxes), reported apart and never counted
    # or named as subscriptions to review and cancel.
    "bill_primaries": ["RENT_AND_UTILITIES", "MEDICAL"],
    "bill_detailed": [
        "GENERAL_SERVICES_INSURANCE",
        "GENERAL_SERVICES_CHILDCARE",
        "GENERAL_SERVICES_EDUCATION",
        "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT",
    ],
    # Utility bills move with the season: a bill's charges may sit within 50 % of its median
    # (a subscription's within 20 %) and still be one recurring bill.
    "bill_amount_tolerance": 0.50,
    # A transfer out to savings and a deposit of the same amount into a savings account in the
    # data within this many days are one transfer (banks take 1-3 business days, plus a weekend).
    "savings_transfer_match_days": 5,
    # Regular pay: median gap at most persona_variable_income_gap_days AND no gap (the time
    # since the last deposit included, once it is longer) over 1.5 x the median: 31, 72, 35
    # days apart is not regular. Irregular is the opposite of regular, never a second measure.
    "income_max_gap_ratio": 1.5,
    # Deposits a year for each named pay frequency, by median gap in days (min, max). In the
    # biweekly band a mean gap over semimonthly_mean_gap_days is twice-monthly pay (24 a year,
    # mean 15.2 days) rather than every two weeks (26, mean 14). Any other regular pay counts
    # 365.25 / mean gap deposits a year.
    "pay_frequencies": {"weekly": (5, 9, 52), "biweekly": (10, 17, 26), "monthly": (25, 35, 12)},
    "semimonthly_mean_gap_days": 14.6,
    # Irregular pay: monthly income is the average of this many days (or of all the history,
    # if shorter): the longest window, so one good or lean month does not swing it.
    "income_average_days": 180,
    # Interest, dividends and tax refunds are left out of the pay pattern and of monthly
    # income: small or once a year, they would break the cadence or inflate the month.
    "income_not_pay": ["INCOME_INTEREST_EARNED", "INCOME_DIVIDENDS", "INCOME_TAX_REFUND"],
    "emergency_fund_target_months": 3,
    "persona_high_utilization": 0.50,
    "persona_variable_income_gap_days": 45,
    "persona_variable_income_buffer_months": 1.0,
    "persona_subscription_min_merchants": 3,
    "persona_subscription_monthly_spend": 50,
    "persona_subscription_share": 0.10,
    "persona_savings_growth": 0.02,
    "persona_savings_monthly_inflow": 200,
    "persona_stretched_spend_ratio": 0.95,
    "persona_stretched_buffer_months": 0.5,
    "education_min": 3,
    "education_max": 5,
    "offers_max": 3,
    # Relevance: a persona match outweighs any single signal; the recent window counts more.
    "score_persona_30d": 10,
    "score_persona_180d": 8,
    "score_tag_30d": 2,
    "score_tag_180d": 1,
}
# New recommendations wait for an operator's approval; False publishes them at once.
RECOMMENDATIONS_REQUIRE_REVIEW = env_bool("RECOMMENDATIONS_REQUIRE_REVIEW", default=True)
# Cached reads (profile, signals, persona, recommendations) live this long at most; every
# recompute, consent change and review decision invalidates them at once anyway.
INSIGHTS_CACHE_SECONDS = 24 * 3600
# Cached own-insight reads answered before routing and DRF (recommendations/api/fast_reads.py);
# false sends them through the full stack, which answers the same bytes, more slowly.
INSIGHTS_FAST_READS = env_bool("INSIGHTS_FAST_READS", default=True)
# The analytics beat task rolls up every closed day of this many days back that is not built
# yet (a day with an upload still in flight waits); older gaps: manage.py analytics_rebuild.
ANALYTICS_ROLLUP_LOOKBACK_DAYS = env_int("ANALYTICS_ROLLUP_LOOKBACK_DAYS", default=60, minimum=1)

# --- API ---------------------------------------------------------------------------------
# Clients behind this many proxies (the ALB is one) send their address in X-Forwarded-For;
# anything further left in that header is client-controlled and never trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)

# Throttle rates (DESIGN §2); benchmarks raise them through the environment.
THROTTLE_RATES = {
    "login": env_str("THROTTLE_LOGIN", "5/hour"),
    "register": env_str("THROTTLE_REGISTER", "20/hour"),
    "user": env_str("THROTTLE_USER", "1000/hour"),
    "anon": env_str("THROTTLE_ANON", "1000/hour"),
    "sms_phone": env_str("THROTTLE_SMS_PHONE", "5/hour"),
    "sms_ip": env_str("THROTTLE_SMS_IP", "20/hour"),
    "oauth": env_str("THROTTLE_OAUTH", "60/hour"),
    # The console's sign-in, per client IP and per account (operator_console/signin.py).
    "console_login": env_str("THROTTLE_CONSOLE_LOGIN", "5/hour"),
    # Verification mail on request, per signed-in user: enough for a lost message, not a
    # mail cannon aimed at someone else's inbox.
    "email_resend": env_str("THROTTLE_EMAIL_RESEND", "5/hour"),
    # Current-password attempts per user on destructive actions (accounts/reauth.py).
    "reauthentication": env_str("THROTTLE_REAUTHENTICATION", "10/hour"),
    # Password reset requests: per client IP (429), and reset mails per address (past it
    # the answer stays 202 and nothing is mailed, so it tells nothing and floods nobody).
    "password_reset_ip": env_str("THROTTLE_PASSWORD_RESET_IP", "20/hour"),
    "password_reset_email": env_str("THROTTLE_PASSWORD_RESET_EMAIL", "5/hour"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "accounts.authentication.APIKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "spendsense.api.throttles.UserRateThrottle",
        "spendsense.api.throttles.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PAGINATION_CLASS": "spendsense.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "spendsense.api.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "spendsense.api.errors.ExceptionHandler",
    # JSON errors in development too: clients see in DEBUG what they will see in production.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # Codes beyond these (409, 413) are declared per view with
    # spendsense.api.openapi.error_responses, so only the views that raise them list them;
    # 503 (the database or cache down) is on every operation that authenticates or throttles
    # (spendsense.api.openapi.AutoSchema).
    # Every status is documented with the one error shape and an open `code` string: the
    # services add codes of their own (token_not_valid, consent_required, ...), which the
    # package's per-field enums would wrongly exclude (schemathesis found them).
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "415",
        "429",
        "500",
        "503",
    ],
    "ERROR_SCHEMAS": dict.fromkeys(
        ["400", "401", "403", "404", "405", "406", "415", "429", "500", "503"],
        "spendsense.api.openapi.ErrorResponseSerializer",
    ),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SpendSense API",
    "DESCRIPTION": (
        "Explainable financial education from Plaid-shaped bank data. Errors share one "
        "format: `{type, errors: [{code, detail, attr}]}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "UploadStatusEnum": "uploads.models.UploadStatus",
        "RecommendationStatusEnum": "recommendations.models.RecommendationStatus",
        "RecommendationTypeEnum": "recommendations.models.RecommendationType",
        **{
            name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
            for name in (
                "ValidationErrorEnum",
                "ClientErrorEnum",
                "ServerErrorEnum",
                "ErrorCode401Enum",
                "ErrorCode403Enum",
                "ErrorCode404Enum",
                "ErrorCode405Enum",
                "ErrorCode406Enum",
                "ErrorCode415Enum",
                "ErrorCode429Enum",
                "ErrorCode500Enum",
            )
        },
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "spendsense.api.openapi.postprocess_schema",
    ],
    # Paths carry the /api/v1 prefix, so a server is an origin.
    "SERVERS": [
        {"url": "http://127.0.0.1:8000", "description": "Development (`make run`)"},
        {
            "url": "https://{domain_name}",
            "description": "Production: the deployment's domain (Terraform's `domain_name`)",
            "variables": {"domain_name": {"default": "api.spendsense.invalid"}},
        },
    ],
    # Swagger UI and ReDoc from the image, not a CDN (works offline, fits the CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- CORS --------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api|\.well-known)/.*$"
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after"]

# --- production hardening ----------------------------------------------------------------
if PRODUCTION:
    # TLS ends at the ALB, which says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # The ALB's and the container's health checks speak plain http to the task.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Content-Security-Policy on every response: only our own scripts; the console's inline
# styles and the docs' data: images are the exceptions.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- logging: JSON lines carrying the request id -----------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "spendsense.api.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Our access line replaces Django's per-request warnings for 4xx.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Upper bound on a request body Django reads into memory (uploads stream to disk beyond it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
