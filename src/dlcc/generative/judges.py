"""The judges' shipped weights: how they are trained, saved and loaded.

    judge = load_judge("mnist")        # MnistJudge, eval mode, on the CPU
    judge = load_judge("beats")        # BeatJudge (normal vs ventricular MIT-BIH beats)

The weights ship inside dlcc (`dlcc/generative/weights/*.npz`, under 1 MB together) rather
than being trained on first use and cached: a Fréchet distance is only comparable between two
runs when both used the same feature network, so everyone must have the very same weights,
as FID users all have the same Inception network. An `.npz` of plain arrays (read with
`allow_pickle=False`) never runs code from the file. They were made with

    python -m dlcc.generative.judges train mnist --out src/dlcc/generative/weights
    python -m dlcc.generative.judges train beats --out src/dlcc/generative/weights

and each file's `meta` entry records its held-out accuracy: the MNIST judge on 55,000 training
images, 0.9911 on the 10,000 test images; the beat judge on the beats of 12 MIT-BIH records,
0.981 on 4 others it never saw (recall 0.988 normal, 0.957 ventricular).
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from dlcc.errors import DataError
from dlcc.models.judges import BeatJudge, Judge, MnistJudge

JUDGES = {"mnist": (MnistJudge, "mnist_judge.npz"), "beats": (BeatJudge, "beat_judge.npz")}
BEAT_TEST_RECORDS = ("105", "119", "208", "233")     # held out from the beat judge's training


def weights_dir() -> Path:
    return Path(str(resources.files("dlcc.generative").joinpath("weights")))


def load_judge(name: str, path: str | Path | None = None) -> Judge:
    """The judge `name` ("mnist" or "beats") with its shipped weights (or those in `path`)."""
    cls, file = JUDGES[name]
    path = Path(path) if path is not None else weights_dir() / file
    if not path.is_file():
        raise DataError(f"the {name} judge's weights {path} are missing",
                        fix=f"reinstall dlcc, or make them: python -m dlcc.generative.judges train {name} "
                            f"--out {path.parent}")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            state = {k[2:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("w/")}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the {name} judge's weights {path}: {exc}",
                        fix="reinstall dlcc (the file is damaged)") from None
    model = cls(**meta.get("args", {}))
    model.load_state_dict(state)
    model.meta = meta
    return model.eval().requires_grad_(False)


def save_judge(model: Judge, path: str | Path, meta: dict) -> Path:
    """Weights as float32 arrays plus a JSON `meta` entry (args, data, held-out accuracy)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"w/{k}": v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def _fit_classifier(model, x_train, y_train, x_val, y_val, epochs: int, seed: int, log) -> None:
    from torch import nn

    from dlcc.train import BestModel, TensorBatches, fit, make_loader

    torch.manual_seed(seed)
    train = make_loader(TensorBatches(x_train, y_train), 128, shuffle=True, seed=seed)
    val = make_loader(TensorBatches(x_val, y_val), 1000)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, train, val, nn.CrossEntropyLoss(), optimizer, epochs, device="cpu", progress=False,
        callbacks=[BestModel("val_accuracy", "max")], log=log)
    model.eval()


@torch.no_grad()
def predict_labels(judge: Judge, x: torch.Tensor, batch: int = 2000) -> np.ndarray:
    return np.concatenate([judge(x[i:i + batch]).argmax(1).numpy() for i in range(0, len(x), batch)])


def train_mnist_judge(seed: int = 0, epochs: int = 4, log=print) -> tuple[MnistJudge, dict]:
    """MnistJudge trained on 55,000 MNIST training images (5,000 for selection)."""
    from dlcc.data import load_mnist
    from dlcc.generative.images import to_unit

    data = load_mnist()
    x, y = to_unit(data["train"][0]), torch.from_numpy(data["train"][1])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    train, val = order[5000:], order[:5000]
    model = MnistJudge()
    _fit_classifier(model, x[train], y[train], x[val], y[val], epochs, seed, log)
    x_test, y_test = to_unit(data["test"][0]), data["test"][1]
    accuracy = float((predict_labels(model, x_test) == y_test).mean())
    meta = {"judge": "mnist", "args": {}, "data": "MNIST train 55,000 (val 5,000)", "epochs": epochs, "seed": seed,
            "test_accuracy": accuracy, "input": "[B, 1, 28, 28] in [-1, 1]"}
    log(f"MNIST judge: test accuracy {accuracy:.4f}")
    return model, meta


def train_beat_judge(seed: int = 0, epochs: int = 8, log=print) -> tuple[BeatJudge, dict]:
    """BeatJudge trained on the N/V beats of 12 MIT-BIH records, tested on 4 others."""
    from dlcc.signals.beats import balanced_indices, load_beats

    beats = load_beats()
    test = np.isin(beats.record, BEAT_TEST_RECORDS)
    rest = np.flatnonzero(~test)
    rng = np.random.default_rng(seed)
    val = np.zeros(len(beats), bool)
    val[rng.choice(rest, len(rest) // 10, replace=False)] = True
    train_idx = np.flatnonzero(~test & ~val)
    train_idx = train_idx[balanced_indices(beats.y[train_idx], seed)]      # as many V as N beats
    x = torch.from_numpy(beats.x).unsqueeze(1)
    y = torch.from_numpy(beats.y)
    model = BeatJudge()
    _fit_classifier(model, x[train_idx], y[train_idx], x[val], y[val], epochs, seed, log)
    pred = predict_labels(model, x[test])
    truth = beats.y[test]
    recall = [float((pred[truth == c] == c).mean()) for c in (0, 1)]
    meta = {"judge": "beats", "args": {}, "data": "MIT-BIH N/V beats, lead MLII, 12 records (V oversampled)",
            "test_records": list(BEAT_TEST_RECORDS), "epochs": epochs, "seed": seed,
            "test_accuracy": float((pred == truth).mean()), "test_recall_normal": recall[0],
            "test_recall_ventricular": recall[1], "input": "[B, 1, 256] cleaned, z-scored MLII (dlcc.signals.beats)"}
    log(f"beat judge: held-out records {', '.join(BEAT_TEST_RECORDS)}: accuracy {meta['test_accuracy']:.4f}, "
        f"recall normal {recall[0]:.4f}, ventricular {recall[1]:.4f}")
    return model, meta


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlcc.generative.judges", description="train a judge")
    parser.add_argument("action", choices=["train"])
    parser.add_argument("judge", choices=sorted(JUDGES))
    parser.add_argument("--out", type=Path, default=weights_dir())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model, meta = (train_mnist_judge if args.judge == "mnist" else train_beat_judge)(args.seed)
    print(save_judge(model, args.out / JUDGES[args.judge][1], meta))


if __name__ == "__main__":
    main()
