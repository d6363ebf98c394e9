"""``python -m msphub_psa.connectwise.sandbox`` serves on loopback with a SQLite file."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.clock import command

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serves_companyinfo_and_applies_latency(tmp_path):
    port = free_port()
    cmd = [
        *command("msphub_psa.connectwise.sandbox"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "cw.db"),
        "--latency-ms",
        "20",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, body = time.monotonic() + 15, None
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/login/companyinfo/demo_msp", timeout=1).json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert body and body["CompanyID"] == "demo_msp" and body["Codebase"] == "v4_6_release/"
        assert httpx.get(f"http://127.0.0.1:{port}/login/companyinfo/nobody", timeout=2).json() is None
        faults = httpx.get(f"http://127.0.0.1:{port}/__sandbox__/faults", timeout=2).json()
        assert faults["rules"] == [{"kind": "latency", "ms": 20}]
        assert (tmp_path / "cw.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
