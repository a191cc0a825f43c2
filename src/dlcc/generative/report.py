"""The final report of an image GAN (the MNIST recipes' `test`): its samples scored against the
test images with the floor and ceiling controls, its class scores and the copy check, plus
samples.png and nearest_neighbours.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dlcc.generative import quality
from dlcc.generative.figures import format_quality, plot_nearest
from dlcc.generative.images import save_grid, to_unit
from dlcc.generative.sampling import generate

FD_COLUMNS = (("fd", "Fréchet d."), ("fd_ratio", "/ collapsed"))
REPORT_SEED = 2024      # the final samples' noise: not the noise of the grids seen during training


def image_report(G, judge, data: dict, ev, latent: int, num_classes: int, out_dir: Path, name: str, log) -> dict:
    """Metrics `test_*` of generator `G` (data: {"train", "val", "test"} of uint8 images and
    labels; `ev`: samples, copy_samples)."""
    n = ev.samples
    generated, labels = generate(G, n, latent, num_classes, torch.Generator().manual_seed(REPORT_SEED))
    test_x = to_unit(data["test"][0])
    ref, _ = quality.judge_outputs(judge, test_x)
    gen_f, predicted = quality.judge_outputs(judge, generated)
    floor_x = data["val"][0][:n]
    if len(floor_x) < n:
        log(f"note: the real-vs-real floor uses {len(floor_x)} held-out images (data.val_size), "
            f"fewer than the {n} generated ones, which raises it")
    floor_f, _ = quality.judge_outputs(judge, to_unit(floor_x))
    ceiling_f, _ = quality.judge_outputs(judge, to_unit(quality.collapsed(*data["train"], n, 10)))
    fds = quality.fd_with_controls(gen_f, ref, floor_f, ceiling_f)
    classes = quality.class_scores(predicted, labels.numpy() if num_classes else None, 10)
    m = min(ev.copy_samples, n, len(test_x))
    copies = quality.copy_scores(generated[:m], to_unit(data["train"][0]), test_x[:m])

    save_grid(generated[:100], out_dir / "samples.png", nrow=10)
    closest = np.argsort(copies["nn_distance"])[:10]
    plot_nearest(generated[closest].numpy(), to_unit(data["train"][0][copies["nn_index"][closest]]).numpy(),
                 copies["nn_distance"][closest], out_dir / "nearest_neighbours.png",
                 copies["threshold"],
                 f"{name}: the 10 generated images closest to a training image (bottom: that image)")
    table = format_quality({"real vs real (floor)": {"fd": fds["fd_floor"], "fd_ratio": fds["fd_floor"] / fds["fd_collapsed"]},
                            name: {"fd": fds["fd"], "fd_ratio": fds["fd_ratio"]},
                            "collapsed (ceiling)": {"fd": fds["fd_collapsed"], "fd_ratio": 1.0}}, FD_COLUMNS)
    log(f"{name}: Fréchet distance on the MNIST judge's features, {n} samples vs the 10,000 test images\n{table}")
    if num_classes:
        log(f"{name}: conditional accuracy {classes['cond_accuracy']:.4f} (the judge labels class-c samples c)")
    else:
        log(f"{name}: class coverage: rarest class {classes['class_min_share']:.2f} of an even share, "
            f"label entropy {classes['class_entropy']:.3f} of the maximum")
    log(f"{name}: nearest training image: median distance {copies['nn_median']:.2f} for generated, "
        f"{copies['nn_median_held_out']:.2f} for held-out test images; near-copies {copies['near_copy_rate']:.3f} "
        "(held-out data: 0.01)")
    out = {f"test_{k}": v for k, v in {**fds, **classes}.items()}
    out.update({f"test_{k}": copies[k] for k in ("nn_ratio", "nn_median", "nn_median_held_out", "near_copy_rate")})
    out["test_samples"] = n
    return out



def beat_report(G, judge, beats, held: np.ndarray, cfg, out_dir: Path, name: str, log, before: int = 90) -> dict:
    """Metrics `test_*` of a conditional beat generator (the ecg-beat-gan recipe's `test`):
    per class, every real beat takes part - a random half is the reference, the other half the
    floor, and the generated beats and the collapsed control are as many as the floor's."""
    from dlcc.generative.figures import plot_beats
    from dlcc.signals.beats import CLASS_NAMES

    rng = np.random.default_rng(cfg.seed + 1)
    k, latent = len(CLASS_NAMES), cfg.gan.latent
    out, rows, predicted, conditioned, shown, made = {}, {}, [], [], {}, {}
    for c, cname in enumerate(CLASS_NAMES):
        idx = rng.permutation(np.flatnonzero(beats.y == c))
        half = len(idx) // 2
        floor_x, ref_x = (torch.from_numpy(beats.x[i]).unsqueeze(1) for i in (idx[:half], idx[half:]))
        n = len(floor_x)
        gen = generate(G, n, latent, k, torch.Generator().manual_seed(REPORT_SEED + c), labels=torch.full((n,), c))[0]
        ref_f, _ = quality.judge_outputs(judge, ref_x)
        gen_f, pred = quality.judge_outputs(judge, gen)
        floor_f, _ = quality.judge_outputs(judge, floor_x)
        ceiling_f, _ = quality.judge_outputs(judge, quality.collapsed(floor_x, torch.zeros(n), n, 1, cfg.seed))
        fds = quality.fd_with_controls(gen_f, ref_f, floor_f, ceiling_f)
        out.update({f"{key}_{cname}": value for key, value in fds.items()})
        rows[f"{cname}: real vs real (floor)"] = {"fd": fds["fd_floor"], "n": n}
        rows[f"{cname}: {name}"] = {"fd": fds["fd"], "n": n}
        rows[f"{cname}: collapsed (ceiling)"] = {"fd": fds["fd_collapsed"], "n": n}
        predicted.append(pred)
        conditioned.append(np.full(n, c))
        shown[cname] = floor_x[: cfg.eval.plot_beats, 0].numpy()
        made[cname] = gen[: cfg.eval.plot_beats, 0].numpy()
    out.update(quality.class_scores(np.concatenate(predicted), np.concatenate(conditioned), k))
    m = min(cfg.eval.copy_samples, int(held.sum()))
    copy_labels = torch.arange(m) % k
    gen = generate(G, m, latent, k, torch.Generator().manual_seed(REPORT_SEED + k), labels=copy_labels)[0]
    copies = quality.copy_scores(gen, torch.from_numpy(beats.x[~held]), torch.from_numpy(beats.x[held][:m]))
    plot_beats(shown, made, out_dir / "beats.png", before=before, n=cfg.eval.plot_beats,
               title=f"{name}: real (top) and generated (bottom) MIT-BIH beats, lead MLII")
    table = format_quality(rows, (("fd", "Fréchet d."), ("n", "samples")))
    log(f"{name}: Fréchet distance on the beat judge's features (reference: a random half of the real beats)\n{table}")
    acc = out["cond_accuracy_per_class"]
    log(f"{name}: conditional accuracy {out['cond_accuracy']:.4f} (" +
        ", ".join(f"{cname} {a:.4f}" for cname, a in zip(CLASS_NAMES, acc)) + ")")
    log(f"{name}: nearest training beat: median distance {copies['nn_median']:.2f} for generated, "
        f"{copies['nn_median_held_out']:.2f} for held-out real beats; near-copies {copies['near_copy_rate']:.3f} "
        "(held-out data: 0.01)")
    out.update({k2: copies[k2] for k2 in ("nn_ratio", "nn_median", "nn_median_held_out", "near_copy_rate")})
    return {f"test_{key}": value for key, value in out.items()}
