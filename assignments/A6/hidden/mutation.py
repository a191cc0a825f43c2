"""Probes for `dlcc course mutate A6` (never released): random inputs for the functions whose
surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import os
import tempfile


def _metrics(m, rng):
    n, k = int(rng.integers(1, 40)), int(rng.integers(2, 6))
    logits = rng.normal(scale=4, size=(n, k))
    return m.classification_metrics(logits, rng.integers(0, k, size=n), [f"c{i}" for i in range(k)])


def _split(m, rng):
    keys = ["fit_time_s", "val_loss", "epochs_run", "epoch_time_s", "time_s_total"]
    return list(m.split_timings({key: float(rng.normal()) for key in keys if rng.random() < 0.7}))


def _write(m, rng):
    data = {"b": float(rng.normal()), "a": {"z": int(rng.integers(9)), "y": [float(rng.normal())]}, "c": None}
    with tempfile.TemporaryDirectory() as folder:
        m.write_json(os.path.join(folder, "out.json"), data)
        with open(os.path.join(folder, "out.json"), encoding="utf-8", newline="") as fh:
            return fh.read()


PROBES = {"a6_evaluate.classification_metrics": _metrics, "a6_evaluate.split_timings": _split,
          "a6_evaluate.write_json": _write}
