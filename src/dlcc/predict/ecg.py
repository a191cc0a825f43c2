"""R-peak triggers for the user's recordings: `dlcc predict MODEL RECORD... --out DIR`.

For each recording (WFDB, CSV, .npy, EDF; a folder is every recording in it):

1. choose the model's leads (`--lead NAME`, else the model's first lead - MLII - when present,
   then the others in file order); a one-lead recording is copied into every input of a
   model trained for that (the shipped detector), and refused by one that was not;
2. prepare it as training data were prepared (`dlcc.signals.stream.PreparedStream`: gaps
   filled, resampled to the model's rate, z-scored per lead), in blocks for long recordings;
3. run the model over the same overlapping windows as the recipe's evaluation, keep the
   candidate peaks, and apply the run's threshold and rules (`dlcc.signals.postprocess`);
4. write `<name>_triggers.csv` (time in s, sample at the recording's own rate, RR interval,
   instantaneous heart rate) and `<name>.png` (10 s of the leads with the triggers);
5. with reference beats (a WFDB `.atr` beside the record, or `--annotations`), score
   sensitivity, +P and F1 at ±150 ms, exactly as the recipes do.

A folder or several recordings also give summary.csv / summary.json with the pooled scores.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlcc.data.recordings import Recording, is_recording, open_recording, read_reference
from dlcc.errors import DataError
from dlcc.metrics.events import event_scores, pooled_scores
from dlcc.signals.postprocess import TriggerRules, apply_rules
from dlcc.signals.preprocess import resample_peaks
from dlcc.signals.stream import PreparedStream, stream_candidates, stream_probs, torch_probs

PLOT_SECONDS = 10.0


@dataclass
class EcgOptions:
    fs: float | None = None                 # rate of files that carry none
    leads: list[str] | None = None          # lead names to use, in order
    annotations: Path | None = None         # a file (one recording) or a folder of <stem>.atr / .csv
    tolerance_s: float = 0.15
    plot: bool = True


def list_recordings(inputs: list[Path]) -> list[Path]:
    """Files as given; a folder becomes the recordings in it (sorted; .dat files belong to
    their .hea). A named file or folder that does not exist is an error."""
    out = []
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_recording(p) and not p.name.startswith("."))
            if not found:
                raise DataError(f"{path}: no recordings in the folder (looked for .hea, .csv, .npy, .edf)",
                                fix="point to a folder of recordings, or name the files")
            out.extend(found)
        elif path.exists() or path.with_suffix(".hea").is_file():
            out.append(path)
        else:
            raise DataError(f"{path}: no such file or folder", fix="check the path")
    return out


def choose_leads(rec: Recording, model_input: dict, wanted: list[str] | None) -> list[str]:
    """The leads fed to the model, in order (see the module docstring)."""
    n = int(model_input.get("n_leads", 1))
    if wanted:
        lower = {name.lower(): name for name in rec.leads}
        missing = [w for w in wanted if w not in rec.leads and w.lower() not in lower]
        if missing:
            raise DataError(f"{rec.path}: no lead {', '.join(map(repr, missing))} (it has {', '.join(rec.leads)})",
                            fix="choose leads it has with --lead NAME")
        chosen = [w if w in rec.leads else lower[w.lower()] for w in wanted]
    else:
        first = model_input.get("first_lead")
        chosen = ([first] if first in rec.leads else []) + [name for name in rec.leads if name != first]
        if wanted is None and len(set(rec.rates)) > 1:   # several rates (EDF): keep those of the first lead
            rate = rec.rates[rec.leads.index(chosen[0])]
            chosen = [name for name in chosen if rec.rates[rec.leads.index(name)] == rate]
    if len(chosen) >= n:
        return chosen[:n]
    if model_input.get("single_lead") == "copy":
        return chosen[:1]
    raise DataError(f"{rec.path}: {len(chosen)} lead(s) ({', '.join(chosen)}) but this model needs {n}",
                    fix="use the shipped detector, which takes one lead as well (--model ecg-rpeak), "
                        f"or a model trained on {len(chosen)} lead(s) (--set data.n_leads={len(chosen)})")


def find_reference(path: Path, rec: Recording, opts: EcgOptions, single: bool) -> Path | None:
    """The reference beats for `path`: --annotations (a file for a single recording, or a folder
    holding <stem>.atr / <stem>.csv), else a WFDB .atr beside a WFDB record."""
    ann = opts.annotations
    if ann is not None and ann.is_dir():
        for candidate in (ann / f"{rec.name}.atr", ann / f"{rec.name}.csv"):
            if candidate.is_file():
                return candidate
        return None
    if ann is not None:
        if not single:
            raise DataError(f"--annotations {ann} is one file but there are several recordings",
                            fix="give a folder of <record>.atr / <record>.csv files")
        return ann
    base = getattr(rec, "base", None)                 # WFDB records only
    atr = None if base is None else base.parent / f"{base.name}.atr"
    return atr if atr is not None and atr.is_file() else None


def detect_recording(model, rec: Recording, opts: EcgOptions) -> dict:
    """Triggers (at the model's rate) of one recording, and what is needed to write them."""
    spec = model.artifacts.get("input") or {}
    window, hop = int(spec.get("window", 1024)), int(spec.get("hop", 512))
    rules = TriggerRules.from_artifacts(model.artifacts.get("detect") or {})
    leads = choose_leads(rec, spec, opts.leads)
    view = rec.select(leads)
    stream = PreparedStream(view, float(spec.get("fs", 360.0)), n_inputs=int(spec.get("n_leads", 1)))
    probs_fn = torch_probs(model.module) if model.is_torch else _numpy_probs(model)
    peaks, heights = stream_candidates(stream_probs(probs_fn, stream, window, min(hop, window)), stream.fs,
                                       rules.lowest, rules.min_distance_s)
    return {"triggers": apply_rules(peaks, heights, stream.fs, rules), "stream": stream, "leads": leads,
            "fs_in": float(view.fs), "n_in": view.length, "rules": rules}


def _numpy_probs(model):
    def probs(x: np.ndarray) -> np.ndarray:
        logits = model(x).astype(np.float64)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    return probs


def write_triggers(path: Path, found: np.ndarray, fs: float, fs_in: float, n_in: int) -> None:
    """CSV: time_s, sample (at the recording's rate), rr_s, hr_bpm (blank for the first beat)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time_s", "sample", "rr_s", "hr_bpm"])
        previous = None
        for i in found.tolist():
            t = i / fs
            sample = min(n_in - 1, int(round(t * fs_in)))
            rr = "" if previous is None else f"{t - previous:.4f}"
            hr = "" if previous is None else f"{60.0 / (t - previous):.1f}"
            writer.writerow([f"{t:.4f}", sample, rr, hr])
            previous = t


def plot_recording(path: Path, result: dict, truth: np.ndarray | None, title: str, tolerance_s: float) -> None:
    """10 s of the prepared leads with the triggers (and reference beats): around the first
    error when there is a reference, else from the start."""
    from dlcc.recipes.ecg_rpeak import _plot_window
    from dlcc.signals.plots import plot_triggers

    stream, found = result["stream"], result["triggers"]
    length = int(PLOT_SECONDS * stream.fs)
    start = 0 if truth is None else _plot_window(truth, found, stream.fs, tolerance_s, length, stream.length)
    seg = stream.segment(start, start + length)[:, :len(result["leads"])]
    shift = lambda idx: np.asarray(idx, np.int64) - start        # noqa: E731 - marks relative to the window
    plot_triggers(seg, shift(truth if truth is not None else []), shift(found), path, stream.fs, 0, len(seg),
                  result["leads"], title=f"{title}, {start / stream.fs:.0f}-{(start + len(seg)) / stream.fs:.0f} s")


def predict_ecg(model, inputs: list[Path], out: Path, opts: EcgOptions, log=print) -> dict:
    """Run `model` (a `PredictModel` of task ecg-rpeak) on every recording; returns the summary."""
    files = list_recordings(inputs)
    if opts.annotations is not None and not opts.annotations.exists():
        raise DataError(f"--annotations {opts.annotations}: no such annotation file or folder", fix="check the path")
    rows, names = [], set()
    for path in files:
        rec = open_recording(path, opts.fs)
        try:
            row = _one(model, path, rec, opts, out, names, single=len(files) == 1)
        finally:
            rec.close()
        rows.append(row)
        scored = f": Se {row['sensitivity']:.4f}, +P {row['ppv']:.4f}, F1 {row['f1']:.4f}" if "f1" in row else ""
        log(f"{row['record']}: {row['beats']} triggers in {row['duration_s'] / 60:.1f} min, "
            f"mean HR {row['mean_hr_bpm']:.0f} bpm{scored}")
    summary = {"model": model.name, "records": rows}
    scored = {r["record"]: r for r in rows if "f1" in r}
    if scored:
        summary["overall"] = pooled_scores(scored)
    _write_summary(out, rows, summary)
    return summary


def _one(model, path: Path, rec: Recording, opts: EcgOptions, out: Path, names: set, single: bool) -> dict:
    reference = find_reference(path, rec, opts, single)
    beats = None if reference is None else read_reference(reference, float(rec.fs or 0) or 1.0)
    result = detect_recording(model, rec, opts)
    name = rec.name
    while name in names:
        name += "_"
    names.add(name)
    stream, found = result["stream"], result["triggers"]
    write_triggers(out / f"{name}_triggers.csv", found, stream.fs, result["fs_in"], result["n_in"])
    duration = stream.length / stream.fs
    rr = np.diff(found) / stream.fs
    row = {"record": name, "file": str(path), "leads": "+".join(result["leads"]), "fs_hz": result["fs_in"],
           "duration_s": round(duration, 3), "beats": int(len(found)),
           "mean_hr_bpm": round(float(60.0 / rr.mean()), 1) if len(rr) else 0.0}
    truth = None
    if reference is not None:
        if len(beats) and (beats.min() < 0 or beats.max() >= result["n_in"]):
            raise DataError(f"{reference}: beat at sample {int(beats.max())} lies outside the recording "
                            f"(0..{result['n_in'] - 1})", fix="check that the annotations belong to this recording")
        truth = np.unique(resample_peaks(beats, result["fs_in"], stream.fs, stream.length)) if len(beats) else beats
        row.update(reference=str(reference), **event_scores(truth, found, stream.fs, opts.tolerance_s))
    if opts.plot:
        score = f": F1 {row['f1']:.4f}" if "f1" in row else ""
        plot_recording(out / f"{name}.png", result, truth, f"{model.name} - {name}{score}", opts.tolerance_s)
    return row


def _write_summary(out: Path, rows: list[dict], summary: dict) -> None:
    import json

    keys = ["record", "file", "leads", "fs_hz", "duration_s", "beats", "mean_hr_bpm", "reference", "sensitivity",
            "ppv", "f1", "tp", "fp", "fn"]
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
