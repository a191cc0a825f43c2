"""Probes for `dlcc course mutate A4` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import numpy as np


def triggers(m, rng):
    probs = np.clip(rng.random(int(rng.integers(1, 60))) ** 2 + rng.normal(scale=0.05, size=1), 0, 1)
    return m.find_triggers(probs, float(rng.uniform(0.2, 0.9)), int(rng.integers(1, 8)))


PROBES = {"a4_ecg_trigger_detection.find_triggers": triggers}
