"""What the prepare, train and evaluate stages need to know about a recipe's dataset.

A pipeline versions the data a model was trained on, so the prepare stage writes it into the
project as plain `.npy` arrays (bit-identical every time they are made: `np.save` adds no
timestamps, unlike `np.savez`), one file per split and role, plus `data/manifest.json` with
each file's sha256, shape and dtype. DVC then caches and pushes them like the model.

MNIST-1D is generated offline and small (4,000 + 1,000 signals of length 40, about 800 kB), so
copying it is the right call. A dataset read from DLCC_DATA would get a manifest of the source
files' checksums instead of a copy; no pipeline recipe uses one yet (see docs/pipeline.md).

Arrays (N examples): `{split}_x.npy` float32 [N, 40], `{split}_y.npy` int64 [N] for split in
train, val, test.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dlcc.errors import ConfigError, DataError

SPLITS = ("train", "val", "test")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PipelineData:
    """How one dataset is prepared for a pipeline.

    make_splits(cfg) -> {split: (x, y)} from the recipe's config (its `data` section and seed);
    artifacts: what `load_run` and `dlcc export` need besides weights (labels, input shape).
    """

    name: str
    source: str
    make_splits: Callable[[Any], dict[str, tuple[np.ndarray, np.ndarray]]]
    artifacts: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return list(self.artifacts["classes"])


def _mnist1d_splits(cfg) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The same train/val/test arrays `dlcc run mnist1d-mlp` trains on (split seeded by cfg.seed)."""
    from dlcc.data import load_mnist1d
    from dlcc.train import split_indices

    raw = load_mnist1d(seed=cfg.data.seed)
    x, y = raw["train"]
    train_idx, val_idx = split_indices(len(y), cfg.data.val_size, seed=cfg.seed)
    return {"train": (x[train_idx], y[train_idx]), "val": (x[val_idx], y[val_idx]), "test": raw["test"]}


DATASETS = {
    "mnist1d": PipelineData("mnist1d", "generated offline by the mnist1d package (dlcc.data.load_mnist1d)",
                            _mnist1d_splits, {"classes": [str(i) for i in range(10)], "input": {"shape": [40]}}),
}


def supported_recipes() -> list[str]:
    """Recipes a pipeline can be made of: a PyTorch classifier on a dataset listed above."""
    from dlcc.recipes import list_recipes

    # `lightning` marks recipes whose model is a torch module (NumPy recipes cannot be exported)
    return [name for name, r in list_recipes().items()
            if r.data in DATASETS and r.task == "classification" and r.build_model is not None and r.lightning]


def dataset_for(recipe) -> PipelineData:
    """The dataset adapter of `recipe`; a `ConfigError` listing the supported recipes if none."""
    if recipe.name not in supported_recipes():
        raise ConfigError(f"recipe {recipe.name!r} cannot be made into a pipeline yet "
                          f"(pipelines cover PyTorch classifiers on {', '.join(DATASETS)})",
                          fix=f"choose one of: {', '.join(supported_recipes())}")
    return DATASETS[recipe.data]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_splits(dataset: PipelineData, cfg, out: Path) -> dict:
    """Write every split's arrays and manifest.json into `out`; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, (x, y) in dataset.make_splits(cfg).items():
        for role, array in (("x", np.ascontiguousarray(x, np.float32)), ("y", np.ascontiguousarray(y, np.int64))):
            path = out / f"{split}_{role}.npy"
            np.save(path, array, allow_pickle=False)
            files[path.name] = {"sha256": sha256(path), "shape": list(array.shape), "dtype": str(array.dtype)}
    manifest = {"dataset": dataset.name, "source": dataset.source, "files": files}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of `split`, checked against manifest.json (a changed file is an error, not a silent
    retrain on other data)."""
    manifest_file = data_dir / MANIFEST
    if not manifest_file.is_file():
        raise DataError(f"{manifest_file} does not exist: the prepare stage has not run",
                        fix="dvc repro (or dvc pull, to fetch the data from the remote)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    arrays = []
    for role in ("x", "y"):
        path = data_dir / f"{split}_{role}.npy"
        expected = manifest["files"].get(path.name, {}).get("sha256")
        if not path.is_file():
            raise DataError(f"{path} is missing", fix="dvc repro prepare (or dvc pull)")
        actual = sha256(path)
        if actual != expected:
            raise DataError(f"{path} does not match {manifest_file}: sha256 {actual[:12]}..., expected "
                            f"{str(expected)[:12]}...", fix="dvc checkout data (or dvc repro --force prepare)")
        arrays.append(np.load(path, allow_pickle=False))
    return arrays[0], arrays[1]
