"""Load on `dlcc serve`: N CIFAR-10 test images POSTed to /predict at a fixed concurrency,
with /health polled throughout.

    python benchmarks/bench_serve.py [--run RUN_DIR] [--requests 2000] [--concurrency 16] [--threads 2]

The server is `dlcc serve RUN_DIR` in its own process on 127.0.0.1 (uvicorn, one worker), as a
user starts it. Without `--run`, a cifar10-fast run of the default architecture is trained first
(1 epoch on the real CIFAR-10; its weights only decide the answers, not the time). The client
(asyncio + httpx, in this process, on the same cores) sends each of the first N test images as
a PNG upload, `--concurrency` in flight at once, and a second task asks /health every 0.25 s.
Reported: errors, latency p50/p95/p99/max, throughput, /health's latency under the load, and the
accuracy of the served answers against the labels (a check that the server predicts, not only
answers). Bar (issue 16): 2,000 requests at concurrency 16 on 2 cores with 0 errors, /health
answering throughout. Writes benchmarks/results/serve_load.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def train_default_run(folder: Path) -> Path:
    out = folder / "cifar10-fast"
    subprocess.run([sys.executable, "-m", "dlcc", "run", "cifar10-fast", "--set", "train.epochs=1",
                    "--out", str(out), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    return out


def test_pngs(n: int) -> tuple[list[bytes], np.ndarray]:
    from PIL import Image

    from dlcc.data import load_cifar10

    images, labels = load_cifar10()["test"]
    pngs = []
    for img in images[:n]:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG")
        pngs.append(buf.getvalue())
    return pngs, np.asarray(labels[:n])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(run: Path, port: int, threads: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "dlcc", "serve", str(run), "--port", str(port),
                             "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


async def load(url: str, pngs: list[bytes], concurrency: int) -> dict:
    import httpx

    latencies, answers, errors, health = [0.0] * len(pngs), [None] * len(pngs), [], []
    done = asyncio.Event()
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(len(pngs)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def worker():
            while not queue.empty():
                i = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await client.post(f"{url}/predict", files={"file": (f"{i}.png", pngs[i], "image/png")})
                    latencies[i] = time.perf_counter() - t0
                    if r.status_code != 200:
                        errors.append(f"{i}: HTTP {r.status_code} {r.text[:100]}")
                    else:
                        answers[i] = r.json()["predictions"][0]["class"]
                except httpx.HTTPError as exc:
                    errors.append(f"{i}: {type(exc).__name__}")

        async def poll_health():
            while not done.is_set():
                t0 = time.perf_counter()
                try:
                    r = await client.get(f"{url}/health", timeout=10)
                    health.append((r.status_code, time.perf_counter() - t0))
                except httpx.HTTPError:
                    health.append((0, time.perf_counter() - t0))
                await asyncio.sleep(0.25)

        poller = asyncio.create_task(poll_health())
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
        done.set()
        await poller
    return {"latencies": latencies, "answers": answers, "errors": errors, "health": health, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, help="a finished classification run (default: train cifar10-fast 1 epoch)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="the server's torch threads")
    parser.add_argument("--save", default=str(RESULTS / "serve_load"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or train_default_run(Path(tmp))
        pngs, labels = test_pngs(args.requests)
        port = free_port()
        server = start(run, port, args.threads)
        cpu0 = _process_cpu(server.pid)
        result = asyncio.run(load(f"http://127.0.0.1:{port}", pngs, args.concurrency))
        server_cpu = _process_cpu(server.pid) - cpu0
        server.terminate()
        server.wait(timeout=30)
        from dlcc.recipes import load_run

        classes = [str(c) for c in load_run(run).artifacts["classes"]]
    lat = np.asarray(result["latencies"]) * 1000
    ok = [a is not None for a in result["answers"]]
    correct = [a == classes[y] for a, y in zip(result["answers"], labels) if a is not None]
    health_ok = sum(code == 200 for code, _ in result["health"])
    health_ms = np.asarray([t for _, t in result["health"]]) * 1000
    row = {"requests": args.requests, "concurrency": args.concurrency, "errors": len(result["errors"]),
           "p50_ms": float(np.percentile(lat[ok], 50)), "p95_ms": float(np.percentile(lat[ok], 95)),
           "p99_ms": float(np.percentile(lat[ok], 99)), "max_ms": float(lat[ok].max()),
           "throughput_rps": args.requests / result["wall_s"], "wall_s": result["wall_s"],
           "server_cpu_s": server_cpu, "served_accuracy": float(np.mean(correct)) if correct else 0.0,
           "health_checks": len(result["health"]), "health_ok": health_ok,
           "health_p50_ms": float(np.percentile(health_ms, 50)), "health_max_ms": float(health_ms.max()),
           "first_errors": result["errors"][:5], "server_threads": args.threads, "run": str(args.run or "trained here")}
    lines = ["# dlcc serve under load", "",
             f"{args.requests} CIFAR-10 test images as PNG uploads to `POST /predict` of `dlcc serve` (cifar10-fast, "
             f"one uvicorn worker, {args.threads} torch threads), {args.concurrency} requests in flight; the client "
             "runs on the same machine. /health polled every 0.25 s throughout.", "",
             "| requests | concurrency | errors | p50 ms | p95 ms | p99 ms | max ms | req/s | /health ok | "
             "/health p50 ms | /health max ms | served accuracy |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|",
             f"| {row['requests']} | {row['concurrency']} | {row['errors']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
             f"{row['p99_ms']:.1f} | {row['max_ms']:.1f} | {row['throughput_rps']:.1f} | "
             f"{health_ok}/{len(result['health'])} | {row['health_p50_ms']:.1f} | {row['health_max_ms']:.1f} | "
             f"{row['served_accuracy']:.4f} |", "",
             f"Server process CPU time over the load: {server_cpu:.1f} s ({server_cpu / args.requests * 1000:.1f} ms "
             "per request).", "Bar (issue 16): 0 errors, /health answering throughout."]
    report(lines, args.save, row)


def _process_cpu(pid: int) -> float:
    """user + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
