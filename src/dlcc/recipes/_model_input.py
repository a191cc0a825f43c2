"""What a run's network takes and gives, read from the run itself (its recipe's task, config and
artifacts): the task name, an example batch, the dynamic axes — what `dlcc export` needs.

Tasks: "classification" (`[B, *artifacts.input.shape]` → logits `[B, K]`), "segmentation"
(`[B, C, H, W]` → mask logits `[B, 1, H, W]`, H and W multiples of the U-Net's 2**depth),
"ecg-rpeak" (`[B, window, leads]` → per-sample logits `[B, window]`), "language-model"
(token ids int64 `[B, seq_len]` → logits `[B, seq_len, vocab]`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dlcc.errors import ConfigError


@dataclass
class ModelInput:
    task: str
    example: Tensor                       # the batch an export is made with (batch 2)
    check: Tensor                         # another batch (other batch size / sizes) to compare on
    input_axes: dict[int, str]            # dynamic axes of the input
    input_shape: list[int | None]         # None where an axis is dynamic
    output_name: str
    input_dtype: str = "float32"
    spatial_multiple: int | None = None   # dynamic height/width are multiples of this


def run_task(run) -> str:
    """The run's task: "generative" for GAN recipes, its recipe's `task` when it names one, else
    read from its artifacts."""
    declared = getattr(run.recipe, "task", None)
    if "generative" in getattr(run.recipe, "tags", ()):   # GANs: no input->label network to export or attack
        return "generative"
    if declared and declared != "classification":
        return declared
    artifacts, pre = run.artifacts, run.artifacts.get("input") or {}
    if "vocab" in artifacts:
        return "language-model"
    if "detect" in artifacts:
        return "ecg-rpeak"
    if "channels" in pre and "threshold" in artifacts:
        return "segmentation"
    return declared or "classification"


def model_input(run, seed: int = 0) -> ModelInput:
    """The `ModelInput` of a loaded run (`dlcc.recipes.load_run`)."""
    g = torch.Generator().manual_seed(seed)
    task, artifacts, cfg = run_task(run), run.artifacts, run.config
    pre = artifacts.get("input") or {}
    if task == "classification":
        if "shape" not in pre:
            raise ConfigError(f"run {run.path} does not record its input shape (artifacts['input']['shape'])",
                              fix="re-run the recipe with this version of dlcc")
        shape = [int(s) for s in pre["shape"]]
        return ModelInput(task, torch.randn(2, *shape, generator=g), torch.randn(3, *shape, generator=g),
                          {0: "batch"}, [None, *shape], "logits")
    if task == "segmentation":
        channels = int(pre.get("channels", 1))
        multiple = 2 ** int(cfg.model.depth) if cfg.model.name == "unet" else 8
        return ModelInput(task, torch.rand(2, channels, 4 * multiple, 4 * multiple, generator=g),
                          torch.rand(3, channels, 3 * multiple, 5 * multiple, generator=g),
                          {0: "batch", 2: "height", 3: "width"}, [None, channels, None, None], "mask_logits",
                          spatial_multiple=multiple)
    if task == "ecg-rpeak":
        window, leads = int(pre["window"]), int(pre["n_leads"])
        return ModelInput(task, torch.randn(2, window, leads, generator=g), torch.randn(3, window, leads, generator=g),
                          {0: "batch"}, [None, window, leads], "logits")
    if task == "language-model":
        vocab, length = len(artifacts["vocab"]["chars"]), int(cfg.data.seq_len)
        return ModelInput(task, torch.randint(0, vocab, (2, length), generator=g),
                          torch.randint(0, vocab, (3, length), generator=g), {0: "batch"}, [None, length], "logits",
                          input_dtype="int64")
    raise ConfigError(f"run {run.path} is a {task!r} run, which dlcc cannot export yet",
                      fix="export a classification, segmentation, ECG or language-model run")
