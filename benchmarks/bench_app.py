"""The web app's responsiveness in a real browser: time to first render and prediction round trips.

    python benchmarks/bench_app.py [--run RUN_DIR] [--starts 5] [--trips 10] [--save benchmarks/results/app]

`dlcc app --runs DIR` is started as a user starts it (a Streamlit server in its own process
on 127.0.0.1) and Playwright drives Debian's Chromium (/usr/bin/chromium) against it:

- cold start (`--starts` times, a fresh server each time): from launching `dlcc app` until
  Streamlit's health check answers, and until the page shows its title in Chromium; then the
  first prediction of that server (upload a CIFAR-10 test image through the file uploader, wait
  for "prediction:" and the saliency overlay), which also opens the model;
- warm round trips (`--trips`, on the last server, each in a new browser session): upload an
  image -> probabilities and SmoothGrad overlay rendered; upload a 20 s ECG (CSV) -> R peaks,
  heart rate and the trace rendered with the shipped detector.

CPU: the server's process tree (user + system, psutil) until the title showed. Without `--run`
a cifar10-fast run (default architecture, 1 epoch on 2,000 real CIFAR-10 images) is trained first; its
weights decide the answers, not the time. Wall times on a shared machine are pessimistic.
Writes <save>.md and <save>.json.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 180_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_default_run(folder: Path) -> Path:
    out = folder / "cifar10-fast"
    subprocess.run([sys.executable, "-m", "dlcc", "run", "cifar10-fast", "--set", "train.epochs=1", "data.subset=2000",
                    "data.test_subset=500", "--out", str(out), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    return out


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (`dlcc app` is the Streamlit process itself), then SIGKILL if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (the Streamlit server)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def settle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT_MS)


def upload(page, label: str, path: Path) -> None:
    box = page.get_by_test_id("stFileUploader").filter(has_text=label)
    box.locator("input[type='file']").set_input_files(str(path))


def predict_image(page, image: Path) -> float:
    """Upload -> prediction and overlay rendered, seconds (the page is open on the classify page)."""
    settle(page)
    t0 = time.perf_counter()
    upload(page, "upload images", image)
    page.get_by_text("prediction: ").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


def predict_ecg(page, recording: Path) -> float:
    page.get_by_test_id("stSidebar").get_by_text("ECG R peaks", exact=True).click()
    page.get_by_role("heading", name="ECG R peaks").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    t0 = time.perf_counter()
    upload(page, "upload one recording", recording)
    page.get_by_text("mean heart rate", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


def cold_start(browser, runs: Path, image: Path) -> tuple[dict, subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dlcc", "app", "--runs", str(runs), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"dlcc app exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        health = time.perf_counter() - t0
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url, wait_until="commit")
        page.get_by_role("heading", name="dlcc model app").wait_for(timeout=TIMEOUT_MS)
        title = time.perf_counter() - t0
        cpu = tree_cpu(proc.pid)
        first = predict_image(page, image)
        page.close()
    except BaseException:
        stop(proc)
        raise
    return {"health_s": health, "title_s": title, "server_cpu_to_title_s": cpu, "first_prediction_s": first}, proc, url


def summary(values: list[float]) -> str:
    v = sorted(values)
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    return f"{statistics.median(v):.2f} | {p95:.2f} | {min(v):.2f} | {max(v):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a classification run directory (default: train cifar10-fast)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts (default 5)")
    parser.add_argument("--trips", type=int, default=10, help="warm round trips per page (default 10)")
    parser.add_argument("--save", type=Path, default=RESULTS / "app")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from dlcc.data import load_cifar10, make_synthetic_ecg

    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    runs = work / "runs"
    runs.mkdir()
    run = args.run or train_default_run(work)
    (runs / run.name).symlink_to(run.resolve())
    images = []
    for i, img in enumerate(load_cifar10()["test"][0][:args.trips + args.starts]):
        images.append(work / f"test{i}.png")
        Image.fromarray(img).save(images[-1])
    sig, _ = make_synthetic_ecg(20, fs=360, n_leads=1, seed=3)
    ecg = work / "rec.csv"
    ecg.write_text("time,ECG1\n" + "\n".join(f"{i / 360:.6f},{v:.5f}" for i, v in enumerate(sig[:, 0])) + "\n")

    starts, trips, ecg_trips, trip_cpu, ecg_cpu = [], [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        proc = None
        try:
            for i in range(args.starts):
                if proc is not None:
                    stop(proc)
                row, proc, url = cold_start(browser, runs, images[i])
                starts.append(row)
                print(f"cold start {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
            for i in range(args.trips):
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url, wait_until="commit")
                page.get_by_role("heading", name="Classify images").wait_for(timeout=TIMEOUT_MS)
                settle(page)
                cpu0 = tree_cpu(proc.pid)
                trips.append(predict_image(page, images[args.starts + i]))
                cpu1 = tree_cpu(proc.pid)
                ecg_trips.append(predict_ecg(page, ecg))
                cpu2 = tree_cpu(proc.pid)
                trip_cpu.append(cpu1 - cpu0)
                ecg_cpu.append(cpu2 - cpu1)
                page.close()
                print(f"round trip {i + 1}: image {trips[-1]:.2f} s ({trip_cpu[-1]:.2f} s server CPU), "
                      f"ECG {ecg_trips[-1]:.2f} s ({ecg_cpu[-1]:.2f} s server CPU)", flush=True)
        finally:   # never leave a server behind
            if proc is not None:
                stop(proc)
            browser.close()

    col = lambda key: [r[key] for r in starts]
    lines = ["# dlcc app: time to first render and prediction round trips (Chromium via Playwright)", "",
             f"Model: {run.name} (cifar10-fast), classify page with SmoothGrad overlay (16 samples); ECG page with "
             "the shipped detector on a 20 s one-lead CSV. Server: `dlcc app` on 127.0.0.1, one process.", "",
             "| measure | runs | median s | p95 s | min s | max s |", "|---|---|---|---|---|---|",
             f"| cold start: launch -> health check answers | {len(starts)} | {summary(col('health_s'))} |",
             f"| cold start: launch -> title shown in Chromium | {len(starts)} | {summary(col('title_s'))} |",
             f"| server CPU (user+sys) until the title | {len(starts)} | {summary(col('server_cpu_to_title_s'))} |",
             f"| first prediction of a fresh server (opens the model) | {len(starts)} | "
             f"{summary(col('first_prediction_s'))} |",
             f"| warm round trip: image -> probabilities + overlay | {len(trips)} | {summary(trips)} |",
             f"| warm round trip: ECG CSV -> R peaks + plot | {len(ecg_trips)} | {summary(ecg_trips)} |",
             f"| server CPU (user+sys) of an image round trip | {len(trip_cpu)} | {summary(trip_cpu)} |",
             f"| server CPU (user+sys) of an ECG round trip | {len(ecg_cpu)} | {summary(ecg_cpu)} |", "",
             "Wall times include the browser (Chromium renders on the same cores); the server's CPU time is "
             "the part that does not grow with other jobs' load.", "",
             f"Command: python benchmarks/bench_app.py --starts {args.starts} --trips {args.trips}"
             + (f" --run {args.run}" if args.run else "")]
    report(lines, args.save, {"cold_starts": starts, "image_round_trips_s": trips, "ecg_round_trips_s": ecg_trips,
                              "image_round_trip_server_cpu_s": trip_cpu, "ecg_round_trip_server_cpu_s": ecg_cpu,
                              "model": str(run), "starts": args.starts, "trips": args.trips})


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
