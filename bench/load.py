"""Load bench: N concurrent clients ask /api/ask on loopback for a fixed time; served, errors, latency.

Usage: python bench/load.py [--data-dir .data] [--clients 50] [--seconds 30] [--url http://HOST:PORT]
Without --url it starts `uvicorn app:create_app --factory` on a free loopback port with the rate limit
raised (the bench is one client address) and a queue long enough for every client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "When does the UN Convention against Cybercrime enter into force?",
    "How many states signed the convention in Hanoi?",
    "Combien d'États ont signé la Convention à Hanoï ?",
    "Công ước Hà Nội được ký kết khi nào?",
    "What does Article 16 of the Budapest Convention require?",
    "Which human rights concerns did NGOs raise about the convention?",
    "Quelles critiques les ONG ont-elles formulées ?",
    "Việt Nam đóng vai trò gì trong lễ ký Công ước?",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data_dir: str, clients: int) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn in a child process (its own GIL), ready when /api/health answers."""
    port = _free_port()
    env = {**os.environ, "CA_DATA_DIR": data_dir, "CA_RATE_LIMIT_PER_MINUTE": "1000000",
           "CA_ANSWER_QUEUE": str(clients), "HF_HUB_OFFLINE": "1", "CA_LOG_QUESTIONS": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not answer /api/health within 300 s")


async def client(http: httpx.AsyncClient, base: str, n: int, until: float,
                 latencies: list[float], errors: list[str]) -> None:
    """One user asking the fixed questions in turn until the deadline."""
    i = n
    while time.monotonic() < until:
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        started = time.perf_counter()
        try:
            response = await http.post(f"{base}/api/ask", json={"question": question})
            if response.status_code == 200 and "answer" in response.json():
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors.append(f"HTTP {response.status_code}: {response.text[:120]}")
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


async def run(base: str, clients: int, seconds: float) -> dict[str, object]:
    """Drive the clients and summarize."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(client(http, base, n, until, latencies, errors) for n in range(clients)))
        elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "clients": clients, "seconds": round(elapsed, 1), "served": len(latencies), "errors": len(errors),
        "first_errors": errors[:3], "throughput_rps": round(len(latencies) / elapsed, 2),
        "median_ms": round(statistics.median(ordered), 1) if ordered else None,
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1) if ordered else None,
        "max_ms": round(ordered[-1], 1) if ordered else None,
    }


def main() -> int:
    """Parse options, run the bench, print the figures (exit 1 if any request failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CA_DATA_DIR", ".data"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--url", help="bench a server that is already running instead of starting one")
    args = parser.parse_args()
    proc = None
    base = args.url
    if not base:
        print(f"starting the app on {args.data_dir} ...", file=sys.stderr)
        proc, base = start_server(args.data_dir, args.clients)
    try:
        health = httpx.get(f"{base}/api/health", timeout=30).json()
        print(f"index: {health.get('documents')} documents, {health.get('chunks')} chunks, "
              f"model {health.get('model')}, mode {health.get('mode')}", file=sys.stderr)
        result = asyncio.run(run(base, args.clients, args.seconds))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
