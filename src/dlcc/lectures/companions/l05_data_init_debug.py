"""Lecture 5 companion: data, initialisation and debugging.

1. Initialisation: activation statistics through 10 layers for four weight scales (tanh, ReLU),
   with dlcc.scratch.init's Xavier and He (Kaiming) initialisers.
2. Augmentation: torchvision transforms applied to one synthetic image.
3. Data mismatch: train / train-dev / dev / test errors when the test data come from a
   different "scanner", and what adding a little target-domain data does.
4. Leakage: selecting features on all the data before cross-validation finds signal in noise.
5. Debugging: overfit one batch; three classic bugs and what their loss curves look like.
6. Error analysis: the confusion matrix and the examples with the largest loss.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcc.data import load_digits, make_shapes
from dlcc.lectures.plotting import image_grid, new_figure
from dlcc.lectures.torchfit import accuracy, fit
from dlcc.metrics.classification import confusion_matrix, per_sample_cross_entropy, top_losses
from dlcc.scratch.init import kaiming_normal_, normal_, xavier_normal_


def _init_stats(c):
    c.section("1. Activations through 10 layers of 256 units at initialisation")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 256))
    schemes = {
        "N(0, 0.01²)": lambda w: normal_(w, 0.0, 0.01, rng=rng),
        "N(0, 1)": lambda w: normal_(w, 0.0, 1.0, rng=rng),
        "Xavier (1/fan_avg)": lambda w: xavier_normal_(w, rng=rng),
        "He (2/fan_in)": lambda w: kaiming_normal_(w, nonlinearity="relu", rng=rng),
    }
    fig, axes = new_figure(1, 2, size=(9, 3.6), sharey=True)
    rows = []
    for ax, (act_name, act) in zip(axes, (("tanh", np.tanh), ("ReLU", lambda z: np.maximum(z, 0)))):
        for name, init in schemes.items():
            h, stds = x, []
            for _ in range(10):
                w = init(np.empty((256, 256)))
                h = act(h @ w.T)
                stds.append(float(h.std()))
            ax.semilogy(range(1, 11), np.maximum(stds, 1e-30), "o-", ms=3, label=name)
            rows.append([act_name, name, stds[0], stds[-1]])
        ax.set_title(act_name, fontsize=9)
        ax.set_xlabel("layer")
    axes[0].set_ylabel("std of activations")
    axes[0].legend(fontsize=7)
    c.table(["activation", "initialisation", "std after layer 1", "std after layer 10"], rows, ".3g")
    relu_he = next(r for r in rows if r[0] == "ReLU" and r[1].startswith("He"))
    c.number("relu_he_std_layer10", relu_he[3], "ReLU with He init: activation std after 10 layers", ".3g")
    c.figure("init_stats", fig, "Spread of the activations layer by layer. Too small a scale shrinks "
             "the signal to nothing, too large saturates tanh (and explodes ReLU); Xavier keeps tanh "
             "layers steady, He keeps ReLU layers steady.")


def _augmentation(c):
    c.section("2. Data augmentation with torchvision transforms")
    from torchvision.transforms import v2

    images, _ = make_shapes(1, size=64, seed=3)
    img = torch.from_numpy(images[0]).float()                 # [1, 64, 64]
    torch.manual_seed(0)
    transforms = {
        "original": v2.Identity(),
        "horizontal flip": v2.RandomHorizontalFlip(1.0),
        "rotation ±30°": v2.RandomRotation(30),
        "resized crop": v2.RandomResizedCrop(64, scale=(0.5, 1.0), antialias=True),
        "affine (shift, shear)": v2.RandomAffine(0, translate=(0.15, 0.15), shear=15),
        "brightness/contrast": v2.ColorJitter(brightness=0.5, contrast=0.5),
        "Gaussian blur": v2.GaussianBlur(7, sigma=(1.5, 2.0)),
        "random erasing": v2.RandomErasing(1.0, scale=(0.05, 0.15)),
    }
    outs, titles = [], []
    for name, t in transforms.items():
        outs.append(t(img)[0].numpy())
        titles.append(name)
    c.say("transforms: " + ", ".join(titles[1:]))
    fig = image_grid(outs, titles, ncols=4, size_per=1.9, vmin=0, vmax=1)
    c.figure("augmentation", fig, "One synthetic image and seven random augmentations of it. Each "
             "keeps what the label means (the shapes) while changing what should not matter.")


def _shifted(images: np.ndarray, rng) -> np.ndarray:
    """The "other scanner": blur, lower contrast and noise."""
    from scipy.ndimage import gaussian_filter

    out = np.stack([gaussian_filter(im, 0.7) for im in images]) * 0.6 + 0.2
    return (out + rng.normal(0, 0.08, out.shape)).astype(np.float32)


def _mismatch(c):
    c.section("3. Data mismatch: train on scanner A, deploy on scanner B (digits)")
    d = load_digits()
    rng = np.random.default_rng(0)
    x_all = np.concatenate([d["train"][0], d["test"][0]]).reshape(-1, 64)
    y_all = np.concatenate([d["train"][1], d["test"][1]])
    perm = rng.permutation(len(x_all))
    a, b = perm[:1200], perm[1200:]                       # scanner A (train side), scanner B (target)
    xb = _shifted(x_all[b].reshape(-1, 8, 8), rng).reshape(-1, 64)
    as_t = lambda xs, ys: (torch.from_numpy(np.ascontiguousarray(xs)), torch.from_numpy(ys))  # noqa: E731
    splits = {"train": as_t(x_all[a[:1000]], y_all[a[:1000]]), "train-dev": as_t(x_all[a[1000:]], y_all[a[1000:]]),
              "dev": as_t(xb[:250], y_all[b[:250]]), "test": as_t(xb[250:-150], y_all[b[250:-150]])}
    extra = as_t(xb[-150:], y_all[b[-150:]])              # labelled B images, in no evaluation split
    results = {}
    for label, add in (("trained on A only", False), ("+ 150 labelled B images in training", True)):
        torch.manual_seed(0)
        x_tr, y_tr = splits["train"]
        if add:
            x_tr, y_tr = torch.cat([x_tr, extra[0]]), torch.cat([y_tr, extra[1]])
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        fit(model, x_tr, y_tr, epochs=c.steps(40, 80), lr=2e-3, batch_size=64)
        results[label] = {k: 1 - accuracy(model, *v) for k, v in splits.items()}
    rows = [[label, *r.values()] for label, r in results.items()]
    c.table(["model", "train err", "train-dev err", "dev err", "test err"], rows, ".3f")
    base = results["trained on A only"]
    c.number("variance_gap", base["train-dev"] - base["train"], "variance: train-dev - train error", ".3f")
    c.number("mismatch_gap", base["dev"] - base["train-dev"], "data mismatch: dev - train-dev error", ".3f")
    fixed = results["+ 150 labelled B images in training"]
    c.number("dev_error_after_fix", fixed["dev"], "dev error after adding target-domain images", ".3f")
    fig, ax = new_figure(size=(6.5, 3.4))
    pos = np.arange(len(base))
    for k, (label, r) in enumerate(results.items()):
        ax.bar(pos + (k - 0.5) * 0.38, list(r.values()), 0.38, label=label)
    ax.set_xticks(pos, list(base))
    ax.set_ylabel("error")
    ax.legend(fontsize=8)
    c.figure("mismatch", fig, "Errors on the four splits. The jump from train-dev (same source as "
             "training) to dev (the target scanner) is data mismatch, not variance; a little "
             "labelled target data closes much of it.")


def _leakage(c):
    c.section("4. Leakage: feature selection before vs inside cross-validation (pure noise)")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 5000))
    y = rng.integers(0, 2, 100)               # labels independent of x: true accuracy is 0.5

    def top_features(xs, ys, k=20):
        xc, yc = xs - xs.mean(0), ys - ys.mean()
        corr = np.abs(xc.T @ yc) / (np.linalg.norm(xc, axis=0) * np.linalg.norm(yc) + 1e-12)
        return np.argsort(corr)[-k:]

    leaky_feats = top_features(x, y)          # chosen with every label, the held-out ones included
    scores = {"selection on all data, then CV": [], "selection inside each training fold": []}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        for name, feats in (("selection on all data, then CV", leaky_feats),
                            ("selection inside each training fold", top_features(x[train], y[train]))):
            clf = LogisticRegression(max_iter=1000).fit(x[train][:, feats], y[train])
            scores[name].append(clf.score(x[test][:, feats], y[test]))
    c.table(["pipeline", "5-fold CV accuracy"], [[k, float(np.mean(v))] for k, v in scores.items()], ".3f")
    c.number("leaky_cv_accuracy", np.mean(scores["selection on all data, then CV"]),
             "CV accuracy on random labels when features were chosen with all labels", ".3f")
    c.number("honest_cv_accuracy", np.mean(scores["selection inside each training fold"]),
             "CV accuracy with selection inside the folds (chance is 0.5)", ".3f")


def _overfit_one_batch(c):
    c.section("5. Debugging: overfit one batch of 16 digits (correct code vs three bugs)")
    d = load_digits()
    x = torch.from_numpy(d["train"][0][:16]).reshape(16, -1)
    y = torch.from_numpy(d["train"][1][:16])
    steps = c.steps(300, 500)

    def curve(bug: str):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        lr = 1.0 if bug == "learning rate 1.0 with Adam" else 1e-2
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        targets = y[torch.randperm(16)] if bug == "labels shuffled against inputs" else y
        losses = []
        for step in range(steps):
            out = model(x)
            if bug == "softmax before CrossEntropyLoss":
                out = torch.softmax(out, 1)     # CrossEntropyLoss applies log-softmax itself
            loss = nn.functional.cross_entropy(out, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    curves = {name: curve(name) for name in ("correct", "softmax before CrossEntropyLoss",
                                             "labels shuffled against inputs", "learning rate 1.0 with Adam")}
    c.table(["code", f"loss after {steps} steps"], [[k, v[-1]] for k, v in curves.items()], ".3g")
    c.number("one_batch_final_loss", curves["correct"][-1], "final loss of the correct model on one batch", ".2e")
    c.number("double_softmax_final_loss", curves["softmax before CrossEntropyLoss"][-1],
             "final loss with a softmax before CrossEntropyLoss", ".3g")
    fig, ax = new_figure(size=(6.5, 3.6))
    for name, losses in curves.items():
        ax.semilogy(losses, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss on the batch")
    ax.legend(fontsize=8)
    c.figure("overfit_one_batch", fig, "Overfitting one batch of 16 examples. Correct code memorises "
             "it; a softmax before CrossEntropyLoss stalls far above zero and too high a learning "
             "rate leaves the loss bouncing, so the test catches both. Labels shuffled against "
             "their inputs are memorised just as well: this test cannot catch that bug, only a "
             "validation curve can.")


def _error_analysis(c):
    c.section("6. Error analysis: confusion matrix and top losses (MLP on digits)")
    d = load_digits()
    x, y = (torch.from_numpy(a) for a in d["train"])
    xt, yt = (torch.from_numpy(a) for a in d["test"])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    fit(model, x, y, epochs=c.steps(10, 30), lr=2e-3, batch_size=64)
    with torch.no_grad():
        logits = model(xt)
    cm = confusion_matrix(logits, yt, 10).numpy()
    off = cm.copy()
    np.fill_diagonal(off, 0)
    i, j = np.unravel_index(off.argmax(), off.shape)
    c.number("test_accuracy", np.trace(cm) / cm.sum(), "test accuracy", ".3f")
    c.say(f"most frequent confusion: true {i} predicted as {j} ({off[i, j]} times)")
    values, idx = top_losses(per_sample_cross_entropy(logits, yt), 8)
    pred = logits.argmax(1)
    images = [xt[k].numpy() for k in idx]
    titles = [f"true {yt[k].item()}, said {pred[k].item()}\nloss {v:.1f}" for k, v in zip(idx, values.tolist())]
    fig = image_grid(images, titles, ncols=8, size_per=1.25)
    c.figure("top_losses", fig, "The eight test digits with the largest loss: the place to start "
             "reading errors (ambiguous writing, a class the model confuses, or a wrong label).")


def run(c) -> None:
    _init_stats(c)
    _augmentation(c)
    _mismatch(c)
    _leakage(c)
    _overfit_one_batch(c)
    _error_analysis(c)
