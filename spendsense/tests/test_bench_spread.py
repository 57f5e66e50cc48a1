"""``make bench`` reports how connections sat on the server's processes (bench/run.py)."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_run", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_connection_spread_counts_the_connections_a_process_holds() -> None:
    bench = _bench()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert bench.connection_spread(port) == "?"  # nothing connected yet

        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            assert bench.connection_spread(port) == "3"  # all three held by this process
        finally:
            for s in clients + accepted:
                s.close()
