"""Attribution maps of a trained CIFAR-10 model: parity with captum, the model-randomisation
sanity check, and deletion/insertion faithfulness per method.

    python benchmarks/bench_interpret.py RUN_DIR [--images 200] [--sanity-images 16]

RUN_DIR is a finished CIFAR-10 classifier run (e.g. `dlcc run cifar10-fast`). On a seeded
sample of its test images (pixels in [0, 1], the run's normalisation in front of the network),
for each method (saliency, SmoothGrad, integrated gradients, Grad-CAM, occlusion):

1. parity: max |dlcc - captum| on 16 images with the same settings (baseline, steps, noise
   seed, window) — the bar is 1e-5;
2. faithfulness: deletion AUC (black pixels replace the most important first; lower is
   better) and insertion AUC (from a blurred image; higher is better) of the predicted class's
   probability, 32 steps, against a random ranking;
3. sanity: cascading randomisation from the output layer to the input; the Spearman rank
   correlation of each map with the trained model's map after each layer (a method that
   explains the model falls toward 0).

Writes benchmarks/results/interpret_cifar10.{md,json} and interpret_cifar10_{sanity,faithfulness,
examples}.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

from dlcc.interpret import attribute, cascading_randomisation, deletion_insertion, explainer, random_maps, \
    smoothgrad, to_map  # noqa: E402
from dlcc.models.pixels import pixel_model  # noqa: E402
from dlcc.recipes import load_run  # noqa: E402
from dlcc.recipes._samples import test_samples  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OPTIONS = {"saliency": {}, "smoothgrad": {"samples": 25, "noise": 0.15}, "integrated_gradients": {"steps": 32},
           "gradcam": {}, "occlusion": {"window": (4, 4), "stride": (2, 2)}}


def captum_reference(method: str, model, x, target, layer):
    from captum import attr as ca

    if method == "saliency":
        return ca.Saliency(model).attribute(x, target=target, abs=True)
    if method == "smoothgrad":
        torch.manual_seed(0)
        return ca.NoiseTunnel(ca.Saliency(model)).attribute(x, nt_type="smoothgrad", nt_samples=25, stdevs=0.15,
                                                            target=target, abs=False)
    if method == "integrated_gradients":
        return ca.IntegratedGradients(model).attribute(x, baselines=0.0, target=target, n_steps=32)
    if method == "gradcam":
        cam = ca.LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
        return ca.LayerAttribution.interpolate(cam, x.shape[-2:], interpolate_mode="bilinear")
    return ca.Occlusion(model).attribute(x, target=target, sliding_window_shapes=(3, 4, 4), strides=(3, 2, 2),
                                         baselines=0.0)


def mine(method: str, model, x, target):
    options = dict(OPTIONS[method])
    if method == "smoothgrad":
        options["generator"] = torch.Generator().manual_seed(0)
    return attribute(method, model, x, target, **options)


def plot_sanity(sanity: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for method, rows in sanity.items():
        ax.plot(range(len(rows) + 1), [1.0] + [r["spearman"] for r in rows], marker="o", label=method)
    layers = next(iter(sanity.values()))
    ax.set_xticks(range(len(layers) + 1), ["trained"] + [r["layer"] for r in layers], rotation=60, fontsize=7)
    ax.set(ylabel="Spearman ρ with the trained model's map", ylim=(-0.2, 1.05),
           title="cascading randomisation (output layer first)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_faithfulness(curves: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    axes = fig.subplots(1, 2)
    for ax, kind in zip(axes, ("deletion", "insertion")):
        for method, c in curves.items():
            mean = c[kind].mean(0)
            ax.plot(np.linspace(0, 1, len(mean)), mean, label=method, ls=":" if method == "random" else "-")
        ax.set(xlabel=f"fraction of pixels {'removed' if kind == 'deletion' else 'inserted'}",
               ylabel="probability of the predicted class", title=kind, ylim=(0, 1))
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--sanity-images", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", default="interpret_cifar10")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = {"start": loadavg()}
    run = load_run(args.run_dir)
    model = pixel_model(run.model, run.preprocessing).eval()
    samples = test_samples(run, args.images, seed=1)
    x = samples.x.contiguous()
    with torch.no_grad():
        target = torch.cat([model(x[i:i + 250]).argmax(1) for i in range(0, len(x), 250)])
    accuracy = float((target == samples.y).double().mean())
    print(f"{run.recipe.name}: accuracy {accuracy:.4f} on {len(x)} test images", flush=True)
    from dlcc.interpret import last_conv

    layer = dict(model.named_modules())[last_conv(model)]

    parity, faith, curves, timing, sanity = {}, {}, {}, {}, {}
    xs, ts = x[:16], target[:16]
    for method in OPTIONS:
        ref = captum_reference(method, model, xs, ts, layer).detach()   # captum's Grad-CAM keeps a graph
        got = mine(method, model, xs, ts).detach()
        parity[method] = {"max_abs_diff": float((got - ref).abs().max()), "max_abs_attribution": float(ref.abs().max())}
        print(f"parity {method}: {parity[method]}", flush=True)
    load["parity"] = loadavg()
    for method in [*OPTIONS, "random"]:
        start, cpu = time.perf_counter(), time.process_time()
        if method == "random":
            maps = random_maps(x, torch.Generator().manual_seed(0))
        else:
            maps = torch.cat([to_map(method, mine(method, model, x[i:i + 50], target[i:i + 50]))
                              for i in range(0, len(x), 50)])
        timing[method] = {"wall_s_per_image": (time.perf_counter() - start) / len(x),
                          "cpu_s_per_image": (time.process_time() - cpu) / len(x)}
        scores = deletion_insertion(model, x, maps, target, steps=32)
        faith[method] = {k: {"mean": float(scores[k].mean()), "sem": float(scores[k].std() / len(x) ** 0.5)}
                         for k in ("deletion", "insertion")}
        curves[method] = {k: scores[f"{k}_curve"].numpy() for k in ("deletion", "insertion")}
        print(f"faithfulness {method}: {faith[method]}", flush=True)
    load["faithfulness"] = loadavg()
    xs, ts = x[:args.sanity_images], target[:args.sanity_images]
    for method in OPTIONS:
        explain = explainer(method, **OPTIONS[method])
        if method == "smoothgrad":   # the same noise at every stage, so only the weights differ
            def explain(m, images, t):
                return to_map("smoothgrad", smoothgrad(m, images, t, samples=10, noise=0.15,
                                                       generator=torch.Generator().manual_seed(0)))
        sanity[method] = cascading_randomisation(model, xs, ts, explain)
        print(f"sanity {method}: final rho {sanity[method][-1]['spearman']:.3f}", flush=True)
    load["sanity"] = loadavg()

    RESULTS.mkdir(exist_ok=True)
    plot_sanity(sanity, RESULTS / f"{args.name}_sanity.png")
    plot_faithfulness(curves, RESULTS / f"{args.name}_faithfulness.png")
    from dlcc.interpret.figures import plot_overlays

    for i in range(4):
        maps = {m: to_map(m, mine(m, model, x[i:i + 1], target[i:i + 1]))[0] for m in OPTIONS}
        label = samples.classes[int(target[i])]
        plot_overlays(x[i], maps, RESULTS / f"{args.name}_example{i}.png", f"{run.recipe.name}: {label}")

    parity_ok = all(p["max_abs_diff"] <= 1e-5 for p in parity.values())
    lines = [f"# Attribution maps of a trained CIFAR-10 model ({run.recipe.name})", "",
             f"Run: `{args.run_dir}` ({run.recipe.name}, test accuracy on this sample {accuracy:.4f}); "
             f"{len(x)} seeded test images, explaining the predicted class; pixels in [0, 1] with the run's "
             "normalisation in front of the network. Settings: " + "; ".join(
                 f"{m} {o}" for m, o in OPTIONS.items() if o) + " (integrated gradients from a black image; "
             "occlusion with black windows).", "",
             "## Parity with captum (16 images, same settings and noise seed)", "",
             "| method | max abs diff | largest attribution |", "|---|---|---|",
             *[f"| {m} | {p['max_abs_diff']:.2e} | {p['max_abs_attribution']:.3g} |" for m, p in parity.items()], "",
             f"Bar (within 1e-5): **{'reached' if parity_ok else 'NOT reached'}**.", "",
             "## Faithfulness: deletion and insertion (Petsiuk et al. 2018)", "",
             "Area under the probability of the predicted class as pixels are removed (black; lower is better) "
             "or inserted into a blurred copy (sigma 5 px; higher is better), most important first, 32 steps; "
             "mean ± standard error over the images. Time: attribution only, per image, on "
             f"{args.threads} threads.", "",
             "| method | deletion AUC ↓ | insertion AUC ↑ | CPU s / image |", "|---|---|---|---|",
             *[f"| {m} | {f['deletion']['mean']:.3f} ± {f['deletion']['sem']:.3f} | "
               f"{f['insertion']['mean']:.3f} ± {f['insertion']['sem']:.3f} | {timing[m]['cpu_s_per_image']:.3f} |"
               for m, f in faith.items()], "",
             f"Curves: {args.name}_faithfulness.png; overlays: {args.name}_example0..3.png.", "",
             "## Sanity check: cascading model randomisation (Adebayo et al. 2018)", "",
             f"Spearman rank correlation of each method's map with the trained model's, after randomising the "
             f"layers from the output back to the one named (cumulative), mean over {len(xs)} images "
             "(SmoothGrad with 10 samples and the same noise at every stage).", "",
             "| after randomising | " + " | ".join(sanity) + " |", "|---|" + "---|" * len(sanity),
             *[f"| {row['layer']} | " + " | ".join(f"{sanity[m][i]['spearman']:.3f}" for m in sanity) + " |"
               for i, row in enumerate(next(iter(sanity.values())))], "",
             f"Figure: {args.name}_sanity.png.", "",
             "Load average (1, 5, 15 min): " + "; ".join(f"{k} {v}" for k, v in load.items()) + ". " + LOAD_NOTE, "",
             "Machine:", machine_markdown(), ""]
    text = "\n".join(lines)
    print("\n" + text)
    (RESULTS / f"{args.name}.md").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(
        {"run": str(args.run_dir), "recipe": run.recipe.name, "images": len(x), "accuracy": accuracy,
         "options": {m: {k: list(v) if isinstance(v, tuple) else v for k, v in o.items()} for m, o in OPTIONS.items()},
         "parity": parity, "faithfulness": faith, "timing": timing, "sanity": sanity, "loadavg": load,
         "machine": machine_info()}, indent=2))


if __name__ == "__main__":
    main()
