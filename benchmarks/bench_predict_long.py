"""Peak memory of `dlcc predict` on long recordings: does it stay bounded?

    python benchmarks/bench_predict_long.py [--hours 0.5,1,10] [--model ecg-rpeak | RUN_DIR]
                                            [--save benchmarks/results/predict_long]

A recording of H hours is MIT-BIH records (both leads, 360 Hz) placed end to end, written as a
float32 .npy of [samples, 2] with the beat annotations as a CSV, so the detections can be scored
too. Each length runs `dlcc predict MODEL long.npy --fs 360 --annotations beats.csv` in its own
process; the table gives that process's own peak resident memory and CPU time (getrusage in the
process, at its end) and the wall time. 30 minutes is prepared whole (as the recipes do); longer recordings
stream in blocks (`dlcc.signals.stream`), so their peak should not grow with the length.
The shipped model trained on these very records: the F1 shows that streaming works, not how
well the detector generalises (see ecg_generalise.md for that).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info  # noqa: E402

from dlcc.data import load_mitbih  # noqa: E402
from dlcc.data.ecg import mitbih_records  # noqa: E402


def write_long(folder: Path, hours: float) -> tuple[Path, Path, int]:
    """long.npy [samples, 2] float32 and beats.csv, from MIT-BIH records end to end."""
    names = mitbih_records()
    per = 650_000
    n_records = int(np.ceil(hours * 3600 * 360 / per))
    total = int(round(hours * 3600 * 360))
    path, beats_path = folder / f"long_{hours:g}h.npy", folder / f"beats_{hours:g}h.csv"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(total, 2))
    with open(beats_path, "w") as fh:
        fh.write("sample\n")
        for k in range(n_records):
            rec = load_mitbih([names[k % len(names)]])[0]
            start = k * per
            n = min(per, total - start)
            lead = list(rec.leads).index("MLII") if "MLII" in rec.leads else 0
            out[start:start + n, 0] = rec.signal[:n, lead]
            out[start:start + n, 1] = rec.signal[:n, 1 - lead]
            fh.writelines(f"{start + p}\n" for p in rec.r_peaks if p < n)
    out.flush()
    del out
    return path, beats_path, total


def run_predict(model: str, path: Path, beats: Path, out: Path) -> dict:
    """One `dlcc predict` in a child process; its peak RSS, CPU and wall time, and the summary."""
    shipped = ["--model", model] if not Path(model).exists() else [model]
    args = ["predict", *shipped, str(path), "--fs", "360", "--annotations", str(beats), "--out", str(out), "--json"]
    usage = out.with_suffix(".rusage.json")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(usage), *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"predict failed:\n{proc.stderr}")
    return {**json.loads(usage.read_text()), "wall_s": wall, "overall": json.loads(proc.stdout).get("overall")}


# the child: `dlcc predict ...`, then its own peak RSS and CPU time (getrusage of itself)
CHILD = """
import json, resource, sys
from dlcc.cli import main
code = main(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_SELF)
json.dump({"peak_rss_mb": r.ru_maxrss / 1024, "cpu_s": r.ru_utime + r.ru_stime}, open(sys.argv[1], "w"))
sys.exit(code)
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", default="0.5,1,10")
    parser.add_argument("--model", default="ecg-rpeak", help="a shipped model name or a run directory")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)
    load_before = loadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        for hours in [float(h) for h in args.hours.split(",")]:
            path, beats, total = write_long(Path(tmp), hours)
            r = run_predict(args.model, path, beats, Path(tmp) / f"out{hours:g}")
            row = {"hours": hours, "samples": total, "file_mb": path.stat().st_size / 1e6, **r}
            results.append(row)
            print(f"{hours:g} h: peak RSS {r['peak_rss_mb']:.0f} MB, CPU {r['cpu_s']:.0f} s, wall {r['wall_s']:.0f} s, "
                  f"F1 {r['overall']['f1']:.4f}", flush=True)
            path.unlink()
    lines = ["| recording | samples | .npy file | peak RSS of predict | CPU time | wall time | beats | F1 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        o = r["overall"]
        lines.append(f"| {r['hours']:g} h, 2 leads, 360 Hz | {r['samples']:,} | {r['file_mb']:.0f} MB | "
                     f"**{r['peak_rss_mb']:.0f} MB** | {r['cpu_s']:.0f} s | {r['wall_s']:.0f} s | "
                     f"{o['tp'] + o['fn']:,} | {o['f1']:.4f} |")
    text = "\n".join(lines)
    print(text)
    if args.save:
        info = {**machine_info(), "load_average_before": load_before, "load_average_after": loadavg()}
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        args.save.with_suffix(".md").write_text(
            f"# Peak memory of `dlcc predict` on long recordings\n\n{__doc__.split(chr(10) + chr(10), 1)[1]}\n"
            f"Model: `{args.model}`.\n\n{text}\n\nMachine ({LOAD_NOTE}):\n{machine}\n\n"
            f"Command: python benchmarks/bench_predict_long.py {' '.join(sys.argv[1:] if argv is None else argv)}\n")
        args.save.with_suffix(".json").write_text(json.dumps({"model": args.model, "results": results,
                                                              "machine": info}, indent=2) + "\n")
    os.sync()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
