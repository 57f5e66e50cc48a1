"""Each run mode of DESIGN §2, as a process started in it would see its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import djangoproc
from tests.support.djangoproc import PRODUCTION_SECRET, production_env, production_jwt_key

SUMMARY = """
from django.conf import settings
from django.core.files.storage import storages
db = settings.DATABASES['default']
print(json.dumps({
    'debug': settings.DEBUG,
    'engine': db['ENGINE'],
    'db_options': db.get('OPTIONS', {}),
    'conn_max_age': db.get('CONN_MAX_AGE'),
    'conn_health_checks': db.get('CONN_HEALTH_CHECKS'),
    'cache': settings.CACHES['default']['BACKEND'],
    'eager': settings.CELERY_TASK_ALWAYS_EAGER,
    'acks_late': settings.CELERY_TASK_ACKS_LATE,
    'reject_on_worker_lost': settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
    'visibility_timeout': settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'],
    'serializer': settings.CELERY_TASK_SERIALIZER,
    'accept': settings.CELERY_ACCEPT_CONTENT,
    'time_limit': settings.CELERY_TASK_TIME_LIMIT,
    'storage': type(storages['default']).__name__,
    'storage_options': settings.STORAGES['default'].get('OPTIONS', {}),
    'secret_key': settings.SECRET_KEY,
    'allowed_hosts': settings.ALLOWED_HOSTS,
    'num_proxies': settings.REST_FRAMEWORK['NUM_PROXIES'],
    'rates': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'],
    'cors': settings.CORS_ALLOWED_ORIGINS,
    'ssl_redirect': getattr(settings, 'SECURE_SSL_REDIRECT', False),
    'hsts': getattr(settings, 'SECURE_HSTS_SECONDS', 0),
    'secure_cookies': all(
        getattr(settings, name, False) for name in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE')
    ),
    'proxy_ssl_header': getattr(settings, 'SECURE_PROXY_SSL_HEADER', None),
}, default=str))
"""


def summary(tmp_path: Path, **env: str) -> dict:
    return djangoproc.run_json(SUMMARY, djangoproc.clean_env(tmp_path, **env))


def test_embedded_mode_is_the_default(tmp_path: Path) -> None:
    first = summary(tmp_path)

    assert first["debug"] is True
    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert first["db_options"]["timeout"] == 20
    assert first["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert first["eager"] is True
    assert first["storage"] == "FileSystemStorage"
    assert first["storage_options"] == {"location": str(tmp_path / "media")}
    assert "127.0.0.1" in first["allowed_hosts"]
    assert first["num_proxies"] == 0
    assert first["ssl_redirect"] is False
    # The development secret is generated once into the ignored var folder and reused.
    assert (tmp_path / "secret_key.txt").read_text() == first["secret_key"]
    assert len(first["secret_key"]) >= 50
    assert summary(tmp_path)["secret_key"] == first["secret_key"]


def test_celery_is_hardened_in_every_mode(tmp_path: Path) -> None:
    settings = summary(tmp_path)

    assert settings["acks_late"] is True
    assert settings["reject_on_worker_lost"] is True
    assert settings["serializer"] == "json"
    assert settings["accept"] == ["json"]
    assert settings["time_limit"] == 300
    # Minutes, not the broker's default hour, and longer than the hard time limit.
    assert settings["time_limit"] < settings["visibility_timeout"] <= 900


def test_services_mode_reads_urls(tmp_path: Path) -> None:
    settings = summary(
        tmp_path,
        DATABASE_URL="postgres://app:secret@db.internal:5432/spendsense",
        REDIS_URL="redis://cache.internal:6379/0",
        CELERY_BROKER_URL="redis://cache.internal:6379/1",
    )

    assert settings["engine"] == "django.db.backends.postgresql"
    assert settings["conn_max_age"] == 60
    assert settings["conn_health_checks"] is True
    assert settings["db_options"] == {"connect_timeout": 3}
    assert settings["cache"] == "django_redis.cache.RedisCache"
    assert settings["eager"] is False


def test_tasks_stay_eager_without_a_broker_even_with_redis(tmp_path: Path) -> None:
    settings = summary(tmp_path, REDIS_URL="redis://cache.internal:6379/0")

    assert settings["cache"] == "django_redis.cache.RedisCache"
    assert settings["eager"] is True


def test_s3_storage_when_a_bucket_is_named(tmp_path: Path) -> None:
    settings = summary(
        tmp_path, AWS_STORAGE_BUCKET_NAME="uploads", AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"
    )

    assert settings["storage"] == "S3Storage"
    assert settings["storage_options"]["bucket_name"] == "uploads"
    assert settings["storage_options"]["endpoint_url"] == "http://127.0.0.1:9"
    assert settings["storage_options"]["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert settings["storage_options"]["default_acl"] is None


def test_proxy_count_rates_and_cors_come_from_the_environment(tmp_path: Path) -> None:
    settings = summary(
        tmp_path,
        TRUSTED_PROXY_COUNT="1",
        THROTTLE_LOGIN="100/minute",
        THROTTLE_USER="50000/hour",
        CORS_ALLOWED_ORIGINS="https://app.example.com, https://m.example.com",
    )

    assert settings["num_proxies"] == 1
    assert settings["rates"]["login"] == "100/minute"
    assert settings["rates"]["user"] == "50000/hour"
    assert settings["rates"]["register"] == "20/hour"
    assert settings["cors"] == ["https://app.example.com", "https://m.example.com"]


def test_production_mode_hardens(tmp_path: Path) -> None:
    settings = summary(tmp_path, **production_env())

    assert settings["debug"] is False
    assert settings["ssl_redirect"] is True
    assert settings["hsts"] >= 31_536_000
    assert settings["secure_cookies"] is True
    assert settings["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings["allowed_hosts"] == ["api.example.com"]
    assert not (tmp_path / "secret_key.txt").exists()


@pytest.mark.parametrize("secret", ["", "short-secret", "a" * 60])
def test_production_refuses_a_missing_or_short_secret(tmp_path: Path, secret: str) -> None:
    result = djangoproc.run(
        "print('started')",
        djangoproc.clean_env(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secret),
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set to at least 50 characters" in result.stderr


def test_production_refuses_to_generate_a_jwt_key(tmp_path: Path) -> None:
    result = djangoproc.run(
        "print('started')", djangoproc.clean_env(tmp_path, **production_env(JWT_PRIVATE_KEY=""))
    )

    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY (PEM) must be set" in result.stderr
    assert not (tmp_path / "jwt_private_key.pem").exists()


def test_development_generates_one_jwt_key_and_reuses_it(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(json.dumps(settings.JWT_PRIVATE_KEY))"

    first = djangoproc.run_json(code, djangoproc.clean_env(tmp_path))
    second = djangoproc.run_json(code, djangoproc.clean_env(tmp_path))

    assert first == second == (tmp_path / "jwt_private_key.pem").read_text()
    assert first.startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be true or false"),
        ("TRUSTED_PROXY_COUNT", "one", "TRUSTED_PROXY_COUNT must be a whole number"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be at least 0"),
    ],
)
def test_malformed_values_stop_start_up(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    result = djangoproc.run("print('started')", djangoproc.clean_env(tmp_path, **{name: value}))

    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    env = djangoproc.clean_env(tmp_path, **production_env())

    result = djangoproc.manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secrets_come_from_secrets_manager(tmp_path: Path, aws_endpoint: str) -> None:
    import json

    import boto3

    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    name = f"spendsense/test/{tmp_path.name}"
    client.create_secret(
        Name=name,
        SecretString=json.dumps(
            {
                "DJANGO_SECRET_KEY": PRODUCTION_SECRET,
                "JWT_PRIVATE_KEY": production_jwt_key(),
                "DATABASE_URL": "postgres://app:pw@db.internal:5432/spendsense",
                "DJANGO_ALLOWED_HOSTS": "from-secret.example.com",
            }
        ),
    )
    env = djangoproc.clean_env(
        tmp_path,
        DJANGO_DEBUG="false",
        AWS_SECRETS_MANAGER_SECRET_ID=name,
        AWS_SECRETS_MANAGER_ENDPOINT_URL=aws_endpoint,
        DJANGO_ALLOWED_HOSTS="api.example.com",  # the environment wins over the secret
    )

    code = (
        "from django.conf import settings; print(json.dumps({'key': settings.SECRET_KEY, "
        "'db': settings.DATABASES['default']['HOST'], 'hosts': settings.ALLOWED_HOSTS, "
        "'loaded': sorted(settings.SECRETS_LOADED)}))"
    )
    result = djangoproc.run_json(code, env)

    assert result == {
        "key": PRODUCTION_SECRET,
        "db": "db.internal",
        "hosts": ["api.example.com"],
        "loaded": ["DATABASE_URL", "DJANGO_SECRET_KEY", "JWT_PRIVATE_KEY"],
    }


def test_an_unreadable_secret_stops_start_up(tmp_path: Path, aws_endpoint: str) -> None:
    env = djangoproc.clean_env(
        tmp_path,
        AWS_SECRETS_MANAGER_SECRET_ID="does/not/exist",
        AWS_SECRETS_MANAGER_ENDPOINT_URL=aws_endpoint,
    )

    result = djangoproc.run("print('started')", env)

    assert result.returncode != 0
    assert "Could not read secret 'does/not/exist'" in result.stderr


def test_health_answers_for_any_host_in_production(tmp_path: Path) -> None:
    code = (
        "from django.test import Client\n"
        "c = Client(raise_request_exception=False)\n"
        "h = c.get('/health', HTTP_HOST='10.0.3.17:8000')\n"
        "other = c.get('/api/v1/users/me', HTTP_HOST='10.0.3.17:8000', secure=True)\n"
        "print(json.dumps({'health': h.status_code, 'body': h.json(), 'other': other.status_code, "
        "'csp': c.get('/admin/login/', HTTP_HOST='api.example.com', secure=True)"
        ".get('Content-Security-Policy', '')}))"
    )

    result = djangoproc.run_json(code, djangoproc.clean_env(tmp_path, **production_env()))

    assert result["health"] == 200
    assert result["body"] == {"status": "ok"}
    assert result["other"] == 400  # any other path still refuses a host it does not serve
    assert "default-src 'self'" in result["csp"]
