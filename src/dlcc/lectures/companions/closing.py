"""Closing companion: a model after training (MLOps in miniature).

1. Reproducibility: the same seed gives bit-identical weights; fingerprints of data and model.
2. Export: `torch.export` to a self-contained program file (dynamic batch size), numerical
   parity with the eager model after reloading, and CPU latency and throughput per batch size.
3. Monitoring: a deployed digits model meets slowly drifting inputs; input drift (population
   stability index) and mean confidence are watched, accuracy is what they stand in for.
"""

from __future__ import annotations

import hashlib
import io
import time

import numpy as np
import torch
from torch import nn

from dlcc.data import load_digits
from dlcc.lectures.plotting import new_figure
from dlcc.lectures.torchfit import accuracy, fit


def _fingerprint(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def _reproducibility(c, x, y):
    c.section("1. Reproducibility: fingerprints of the data and of three trained models")
    c.say(f"training data fingerprint (sha256 of the arrays): {_fingerprint([x.numpy(), y.numpy()])}")
    prints = {}
    for name, seed in (("seed 0, first run", 0), ("seed 0, second run", 0), ("seed 1", 1)):
        model = _model(seed)
        fit(model, x, y, epochs=3, lr=2e-3, batch_size=64, seed=seed)
        prints[name] = _fingerprint([p.detach().numpy() for p in model.state_dict().values()])
    c.table(["run", "weights fingerprint"], [[k, v] for k, v in prints.items()])
    c.number("same_seed_identical", prints["seed 0, first run"] == prints["seed 0, second run"],
             "same seed, same weights (1 = yes)", ".0f")


def _export(c, x, y, xt, yt):
    c.section("2. Export with torch.export: parity and CPU speed")
    model = _model(0)
    fit(model, x, y, epochs=c.steps(10, 30), lr=2e-3, batch_size=64)
    model.eval()
    program = torch.export.export(model, (xt[:4],), dynamic_shapes=({0: torch.export.Dim("batch")},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)             # what a server would load, without our code
    buffer.seek(0)
    loaded = torch.export.load(buffer).module()
    with torch.no_grad():
        diff = (model(xt) - loaded(xt)).abs().max().item()
    c.number("export_max_diff", diff, "max |eager - reloaded exported program| logits on the test set", ".1e")
    c.number("deployed_accuracy", accuracy(model, xt, yt), "test accuracy of the exported model", ".3f")
    c.number("export_kib", buffer.getbuffer().nbytes / 1024, "size of the saved program (KiB)", ".1f")
    sizes = [1, 4, 16, 64, 256]
    rows, lat, thr = [], [], []
    for b in sizes:
        batch = xt[:b] if b <= len(xt) else xt.repeat(b // len(xt) + 1, 1, 1)[:b]
        with torch.no_grad():
            loaded(batch)
            reps = c.steps(30, 200)
            start = time.perf_counter()
            for _ in range(reps):
                loaded(batch)
        sec = (time.perf_counter() - start) / reps
        rows.append([b, sec * 1e3, b / sec])
        lat.append(sec * 1e3)
        thr.append(b / sec)
    c.table(["batch", "latency ms", "images per second"], rows, ".4g")
    c.number("throughput_gain", thr[-1] / thr[0], "throughput at batch 256 / batch 1", ".3g")
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.4))
    a1.loglog(sizes, lat, "o-")
    a1.set_xlabel("batch size")
    a1.set_ylabel("latency per call (ms)")
    a2.loglog(sizes, thr, "s-", color="C1")
    a2.set_xlabel("batch size")
    a2.set_ylabel("images per second")
    c.figure("serving", fig, "Serving the exported model on one CPU thread: batching raises "
             "throughput by spreading fixed per-call costs, at the price of waiting for a batch.")
    return model


def _psi(expected: np.ndarray, actual: np.ndarray, bins: np.ndarray) -> float:
    """Population stability index between two samples of one feature, over fixed bins."""
    e = np.histogram(expected, bins)[0] / len(expected) + 1e-4
    a = np.histogram(actual, bins)[0] / len(actual) + 1e-4
    return float(np.sum((a - e) * np.log(a / e)))


def _monitoring(c, model, x, xt, yt):
    c.section("3. Monitoring: 20 weeks of incoming images with slowly growing blur and noise")
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    reference = x.numpy().mean((1, 2))              # one summary feature: mean brightness
    bins = np.quantile(reference, np.linspace(0, 1, 11))
    bins[0], bins[-1] = -np.inf, np.inf
    weeks = np.arange(20)
    psi, conf, acc = [], [], []
    for week in weeks:
        severity = max(0.0, (week - 6) / 13)        # nothing changes for six weeks, then drift
        idx = rng.choice(len(xt), 200)
        imgs = xt[idx].numpy()
        if severity:
            imgs = np.stack([gaussian_filter(im, 0.8 * severity) for im in imgs]) * (1 - 0.4 * severity)
            imgs = imgs + rng.normal(0, 0.1 * severity, imgs.shape)
        batch = torch.from_numpy(imgs.astype(np.float32))
        with torch.no_grad():
            p = torch.softmax(model(batch), 1)
        psi.append(_psi(reference, imgs.mean((1, 2)), bins))
        conf.append(p.max(1).values.mean().item())
        acc.append((p.argmax(1) == yt[idx]).float().mean().item())
    alarm = next((w for w, v in zip(weeks, psi) if v > 0.2), None)
    c.table(["week", "PSI (brightness)", "mean confidence", "accuracy (unseen in production)"],
            [[int(w), p, cf, a] for w, p, cf, a in zip(weeks, psi, conf, acc)][::3], ".3f")
    c.number("alarm_week", -1 if alarm is None else alarm, "first week with PSI > 0.2 (the usual alarm level)", ".0f")
    c.number("accuracy_week0", acc[0], "accuracy in week 0", ".3f")
    c.number("accuracy_week19", acc[-1], "accuracy in week 19", ".3f")
    fig, a1 = new_figure(size=(7, 3.6))
    a1.plot(weeks, acc, "o-", label="accuracy (needs labels)")
    a1.plot(weeks, conf, "s-", label="mean confidence")
    a1.set_xlabel("week in production")
    a1.set_ylabel("accuracy / confidence")
    a2 = a1.twinx()
    a2.plot(weeks, psi, "^-", color="C3", label="PSI of brightness")
    a2.axhline(0.2, color="C3", ls=":", lw=1)
    a2.set_ylabel("population stability index", color="C3")
    if alarm is not None:
        a1.axvline(alarm, color="0.5", ls="--", lw=1)
    a1.legend(loc="lower left", fontsize=8)
    c.figure("monitoring", fig, "A deployed model meets drifting inputs. Accuracy needs labels that "
             "arrive late or never; input drift (PSI, red) and the model's confidence can be watched "
             "every day and raise the alarm (dashed line) as accuracy starts to fall.")


def run(c) -> None:
    d = load_digits()
    x, y = (torch.from_numpy(a) for a in d["train"])
    xt, yt = (torch.from_numpy(a) for a in d["test"])
    _reproducibility(c, x, y)
    model = _export(c, x, y, xt, yt)
    _monitoring(c, model, x, xt, yt)
