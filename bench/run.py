"""``make bench``: the API under load on this machine, against PostgreSQL and Redis.

Starts gunicorn with production settings on 127.0.0.1, seeds users through the real upload
pipeline, then drives each endpoint with ``wrk`` (a second process, Debian's package) for a
fixed time at a fixed concurrency: cached ``GET /users/me/recommendations`` and
``/users/me/signals``, ``POST /auth/login``, a small upload, and ``/health`` as the framework
floor. Prints requests/s, p50/p95/p99, each endpoint's throughput as a share of the floor, and
the server's own CPU time per request (gunicorn's processes, from ``/proc/<pid>/stat``) with
its ratio to the floor's: on two shared cores that ratio is far steadier than requests/s.
Throttle rates are raised so the server, not the limiter, is measured. Each run also records
how the generator's connections sat on gunicorn's workers halfway through (``ss``): gthread
workers race to accept them, and that spread moves a run's throughput more than anything else
left. Loopback only, bounded in time (about two minutes), and it stops what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
PASSWORD = "bench-password-Ra7!x"  # noqa: S105 (a throwaway user on a throwaway database)

PREPARE = r"""
import json
from django.contrib.auth.hashers import make_password
from accounts.models import User
from accounts.sessions.services import session_create
from consent.services import consent_grant
from spendsense.api.request import RequestMeta
from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from uploads.services import upload_create

user, _ = User.objects.get_or_create(email="bench@example.invalid")
user.password = make_password("%(password)s")
user.save()
consent_grant(user=user, version=None)
if not user.uploads.exists():
    upload_create(user=user, file_name="bench.json", content=json.dumps(synthetic_user(2, 42).body).encode(), idempotency_key="bench")
Recommendation.objects.filter(user=user).update(status="approved")
from spendsense import coherence
coherence.user_changed(user.id)
pair = session_create(user=user, meta=RequestMeta())
# Uploads come from a second user: each one recomputes its owner's insights, which would
# turn the reader's cached reads into misses in the rounds after.
uploader, _ = User.objects.get_or_create(email="bench-uploader@example.invalid")
consent_grant(user=uploader, version=None)
uploads = session_create(user=uploader, meta=RequestMeta())
print(json.dumps({"reader": pair.access, "uploader": uploads.access}))
"""


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    responses: int
    non_2xx: int
    errors: str
    spread: str = "?"  # connections per worker halfway through, most first: "20/8/4"
    cpu_ms: float = float("nan")  # the server's CPU time per response (all its processes)


TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(group: int) -> float:
    """CPU time (user + system) spent so far by gunicorn: every live process of its process
    group, plus what the master has reaped of workers that exited (a recycled worker's time
    moves into the master's cutime and cstime)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command, from the state on: utime is the 14th field of the
            # file, so index 11 here; then stime, cutime, cstime.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[2]) != group:
            continue
        total += int(fields[11]) + int(fields[12])
        if stat.parent.name == str(group):  # the master
            total += int(fields[13]) + int(fields[14])
    return total / TICKS


def connection_spread(port: int) -> str:
    """How the open connections to ``port`` sit on the server's processes now, most first
    ("20/8/4"); "?" when ``ss`` cannot tell."""
    try:
        listed = subprocess.run(
            ["ss", "-tnpH", "state", "established", "sport", f"= :{port}"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    per_process = Counter(re.findall(r"pid=(\d+)", listed))
    return "/".join(str(n) for n in sorted(per_process.values(), reverse=True)) or "?"


@dataclass
class Scenario:
    name: str
    url: str
    headers: dict[str, str]
    method: str = "GET"
    body: Path | None = None
    content_type: str | None = None


# wrk's Lua hooks: the scenario's method, headers and body, and one line of results (wrk's own
# report has no p95). Values are Lua long strings, so nothing in them needs escaping.
WRK_SCRIPT = """
wrk.method = [==[%(method)s]==]
%(headers)s
%(body)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%.3f %%d %%d %%d %%d %%d %%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(95), latency:percentile(99), summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(scenario: Scenario, *, seconds: int, connections: int, scratch: Path) -> Result:
    """``scenario`` driven by wrk (one thread: it needs about a tenth of a core at these rates)
    for ``seconds`` at ``connections``; latencies in ms."""
    headers = dict(scenario.headers)
    if scenario.content_type:
        headers["Content-Type"] = scenario.content_type
    body = ""
    if scenario.body is not None:
        body = (
            f'local f = io.open([==[{scenario.body}]==], "rb")\nwrk.body = f:read("*a")\nf:close()'
        )
    script = scratch / "scenario.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "method": scenario.method,
            "headers": "\n".join(
                f"wrk.headers[ [==[{k}]==] ] = [==[{v}]==]" for k, v in headers.items()
            ),
            "body": body,
        }
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "20s",
        "-s",
        str(script),
    ]
    output = subprocess.run(
        [*command, scenario.url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    found = re.search(r"^RESULT (.*)$", output, re.M)
    if found is None:
        return Result(0.0, *(float("nan"),) * 3, 0, 0, output.strip()[-200:])
    rps, p50, p95, p99, responses, non_2xx, errors = found.group(1).split()
    return Result(
        rps=float(rps),
        p50_ms=int(p50) / 1000,
        p95_ms=int(p95) / 1000,
        p99_ms=int(p99) / 1000,
        responses=int(responses),
        non_2xx=int(non_2xx),
        errors=f"{errors} socket errors" if int(errors) else "",
    )


@contextmanager
def bench_environment(
    *, database_url: str, redis_url: str
) -> Iterator[tuple[dict[str, str], Path]]:
    """The environment every server process of a benchmark shares, and a scratch folder:
    ``database_url`` and ``redis_url``, a fresh RSA key (tokens minted by ``django_shell``
    verify in gunicorn), throttle rates raised so the server rather than the limiter is
    measured, quiet logs. The folder is removed afterwards."""
    var = Path(tempfile.mkdtemp(prefix="spendsense-bench-"))
    key = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "THROTTLE_", "CELERY_", "AWS_STORAGE"))
    }
    base.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        JWT_PRIVATE_KEY=key,
        SPENDSENSE_VAR_DIR=str(var),
        DJANGO_STATIC_ROOT=str(var / "static"),
        LOG_LEVEL="WARNING",
        **{
            f"THROTTLE_{name}": "100000000/hour"
            for name in ("LOGIN", "REGISTER", "USER", "ANON", "SMS_PHONE", "SMS_IP")
        },
    )
    try:
        yield base, var
    finally:
        shutil.rmtree(var, ignore_errors=True)


def django_shell(base: dict[str, str], code: str) -> str:
    """Run ``code`` in ``manage.py shell`` with development settings and ``base``'s database
    and key; returns the last line it printed."""
    done = subprocess.run(
        [PY, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env={**base, "DJANGO_DEBUG": "true"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def gunicorn(
    base: dict[str, str], var: Path, *, port: int, workers: int
) -> Iterator[tuple[str, int]]:
    """gunicorn with production settings (``deploy/gunicorn.conf.py``) on 127.0.0.1:``port``
    in ``base``'s environment; yields (root URL, its process group) and stops it afterwards."""
    with socket.socket() as probe:  # a server left running would answer instead of ours
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"127.0.0.1:{port} is in use already: stop what listens there")
    prod = {
        **base,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_MANIFEST": "false",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PATH": f"{Path(PY).parent}:{os.environ['PATH']}",
    }
    with open(var / "gunicorn.log", "w") as server_log:
        server = subprocess.Popen(
            [
                "gunicorn",
                "--config",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "spendsense.wsgi:application",
            ],
            cwd=REPO,
            env=prod,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        root = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                if server.poll() is not None:  # it never bound, or crashed at start
                    server_log.flush()
                    tail = (var / "gunicorn.log").read_text()[-2000:]
                    raise SystemExit(f"gunicorn exited with {server.returncode}:\n{tail}")
                try:
                    urllib.request.urlopen(f"{root}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit(f"gunicorn did not answer {root}/health within 20 s")
            yield root, server.pid
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@contextmanager
def running_server(
    *, workers: int, port: int, database_url: str, redis_url: str
) -> Iterator[tuple[str, dict[str, str], Path, int]]:
    """A seeded database, and gunicorn with production settings on 127.0.0.1:``port``.

    Yields (root URL, access tokens: ``reader`` of the seeded user and ``uploader`` of a
    second one, a scratch folder, gunicorn's process group); stops gunicorn and removes the
    folder afterwards.
    """
    with bench_environment(database_url=database_url, redis_url=redis_url) as (base, var):
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", database_url.rsplit("/", 1)[1]],
            capture_output=True,
            check=False,
        )
        log("preparing: migrate, seed, sign in")
        subprocess.run(
            [PY, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=REPO,
            env={**base, "DJANGO_DEBUG": "true"},
            check=True,
        )
        tokens: dict[str, str] = json.loads(django_shell(base, PREPARE % {"password": PASSWORD}))
        with gunicorn(base, var, port=port, workers=workers) as (root, group):
            yield root, tokens, var, group


def settle(root: str, *, quick_ms: float = 20.0, limit_s: float = 60.0) -> None:
    """Wait until the server is idle again: three ``/health`` answers in a row within
    ``quick_ms`` (at least a second, at most ``limit_s``). wrk stops sending at the end of
    a scenario, but requests it sent (a login's bcrypt, an upload's processing) still run."""
    time.sleep(1)
    deadline, quick = time.monotonic() + limit_s, 0
    while quick < 3 and time.monotonic() < deadline:
        started = time.perf_counter()
        urllib.request.urlopen(f"{root}/health", timeout=10).read()
        quick = quick + 1 if (time.perf_counter() - started) * 1000 < quick_ms else 0
        time.sleep(0.2)


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spendsense_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of every scenario; medians are reported: runs on a shared 2-core "
        "machine vary by about 20 %%",
    )
    parser.add_argument(
        "--only", default="", help="run only the scenarios whose name contains this (and the floor)"
    )
    common_arguments(parser)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        log("wrk is not installed: apt-get install wrk")
        return 2
    with running_server(
        workers=args.workers,
        port=args.port,
        database_url=args.database_url,
        redis_url=args.redis_url,
    ) as (root, tokens, var, group):
        secure = {"X-Forwarded-Proto": "https"}
        bearer = {**secure, "Authorization": f"Bearer {tokens['reader']}"}
        uploader = {**secure, "Authorization": f"Bearer {tokens['uploader']}"}
        for path in ("/api/v1/users/me/recommendations", "/api/v1/users/me/signals"):
            request = urllib.request.Request(root + path, headers=bearer)
            if urllib.request.urlopen(request, timeout=10).status != 200:
                log(f"warming {path} failed")
                return 1
        login = var / "login.json"
        login.write_text(json.dumps({"email": "bench@example.invalid", "password": PASSWORD}))
        boundary = "benchboundary"
        upload = var / "upload.bin"
        small = json.dumps(
            {
                "accounts": [
                    {
                        "account_id": "bench-extra",
                        "type": "depository",
                        "subtype": "checking",
                        "balances": {"current": 10, "iso_currency_code": "USD"},
                    }
                ]
            }
        )
        upload.write_bytes(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n'
                f"Content-Type: application/json\r\n\r\n{small}\r\n--{boundary}--\r\n"
            ).encode()
        )
        scenarios = [
            Scenario("GET /health (floor)", f"{root}/health", secure),
            Scenario(
                "GET /users/me/recommendations (cached)",
                f"{root}/api/v1/users/me/recommendations",
                bearer,
            ),
            Scenario("GET /users/me/signals (cached)", f"{root}/api/v1/users/me/signals", bearer),
            Scenario(
                "POST /auth/login (bcrypt 12)",
                f"{root}/api/v1/auth/login",
                secure,
                "POST",
                login,
                "application/json",
            ),
            Scenario(
                "POST /data/upload (small)",
                f"{root}/api/v1/data/upload",
                uploader,
                "POST",
                upload,
                f"multipart/form-data; boundary={boundary}",
            ),
        ]
        scenarios = [scenarios[0]] + [s for s in scenarios[1:] if args.only in s.name]
        log("warming up: 3s of the floor, not counted")
        wrk(scenarios[0], seconds=3, connections=args.connections, scratch=var)
        # Rounds: every scenario once per round, the floor first, so each endpoint is
        # compared with the floor measured minutes apart at most (the machine drifts).
        rounds: list[list[Result]] = []
        for round_number in range(1, max(args.repeat, 1) + 1):
            log(f"round {round_number} of {args.repeat}: {len(scenarios)} scenarios")
            results_of_round = []
            for scenario in scenarios:
                halfway: list[str] = []
                timer = threading.Timer(
                    args.seconds / 2, lambda out=halfway: out.append(connection_spread(args.port))
                )
                timer.start()
                cpu_before = server_cpu_seconds(group)
                result = wrk(
                    scenario, seconds=args.seconds, connections=args.connections, scratch=var
                )
                timer.cancel()
                result.spread = halfway[0] if halfway else "?"
                settle(root)  # requests still in flight (bcrypt, uploads) finish first
                cpu = server_cpu_seconds(group) - cpu_before
                result.cpu_ms = cpu * 1000 / result.responses if result.responses else cpu
                results_of_round.append(result)
            rounds.append(results_of_round)
    log("")
    log(
        f"{'endpoint':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'of floor':>9} "
        f"{'non-2xx':>8} {'CPU ms/req':>11} {'x floor':>8}"
    )
    results: list[tuple[str, Result, float, float]] = []
    for index, scenario in enumerate(scenarios):
        runs = sorted((r[index] for r in rounds), key=lambda r: r.rps)
        median = runs[len(runs) // 2]  # the median run by req/s, with its latencies
        shares = sorted(r[index].rps / (r[0].rps or 1.0) for r in rounds)
        share = shares[len(shares) // 2]  # the median of each round's share of its floor
        cpu = sorted(r[index].cpu_ms for r in rounds)[len(rounds) // 2]
        cpu_ratios = sorted(r[index].cpu_ms / (r[0].cpu_ms or 1.0) for r in rounds)
        cpu_ratio = cpu_ratios[len(cpu_ratios) // 2]  # each round against its own floor
        results.append((scenario.name, median, share, cpu_ratio))
        log(
            f"{scenario.name:<42} {median.rps:>8.0f} {median.p50_ms:>8.1f} {median.p95_ms:>8.1f} "
            f"{median.p99_ms:>8.1f} {share:>8.0%} {median.non_2xx:>8} {cpu:>11.3f} "
            f"{cpu_ratio:>8.2f}"
        )
        log(
            "    each round: req/s (connections per worker), CPU ms/req: "
            + ", ".join(
                f"{r[index].rps:.0f} ({r[index].spread}) {r[index].cpu_ms:.3f}" for r in rounds
            )
        )
        if median.errors:
            log(f"    errors: {median.errors}")
    (REPO / "var").mkdir(exist_ok=True)
    (REPO / "var" / "bench.json").write_text(
        json.dumps(
            {n: {**asdict(r), "share_of_floor": f, "cpu_of_floor": c} for n, r, f, c in results},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
