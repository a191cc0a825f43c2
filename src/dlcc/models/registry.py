"""Models by name: `get_model("small-cnn")`, `list_models()`.

Each entry names a class by import path (imported only when used), default constructor
arguments, the input shape for one sample (for `dlcc models summary`), and where in the course
the model comes from. `get_model(name, **kwargs)` overrides the defaults.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from dlcc.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    target: str  # "module:Class"
    description: str
    input_shape: tuple[int, ...]  # one sample, no batch dim
    source: str  # where the course uses it
    defaults: dict = field(default_factory=dict)
    input_dtype: torch.dtype = torch.float32
    task: str = "image classification"


_M = "dlcc.models."
MODELS: dict[str, ModelSpec] = {s.name: s for s in [
    # ---- vision: classification (lectures 6-7, assignment 3)
    ModelSpec("lenet5", _M + "classic:LeNet5", "LeNet-5 (LeCun 1998), tanh + average pooling",
              (1, 32, 32), "2021 L6 (LeNet-5)"),
    ModelSpec("alexnet-small", _M + "classic:AlexNetSmall", "AlexNet-style 5-conv net for 32×32",
              (3, 32, 32), "2021 L6 (AlexNet)"),
    *[ModelSpec(v, _M + "classic:VGG", f"{v.upper()} with BatchNorm, CIFAR head", (3, 32, 32),
                "2021 L7; A3 question on VGG16 transfer", {"config": v}) for v in ("vgg11", "vgg16")],
    ModelSpec("small-cnn", _M + "cnn:Cifar10SmallCNN", "the course's small CIFAR CNN",
              (3, 32, 32), "2021 A3 (a)"),
    ModelSpec("small-mobilenet", _M + "cnn:Cifar10SmallCNN", "small CNN with depthwise-separable convs",
              (3, 32, 32), "2021 A3 (b)", {"use_mobile_net_conv": True}),
    ModelSpec("small-resnet", _M + "resnet:Cifar10SmallResNet", "the course's small pre-activation ResNet",
              (3, 32, 32), "2021 A3 (c), (e)"),
    ModelSpec("resnet18", _M + "resnet:ResNet18", "ResNet-18, CIFAR variant (3×3 stem)",
              (3, 32, 32), "2021 L7 (ResNet)"),
    ModelSpec("preact-resnet18", _M + "resnet:PreActResNet18", "pre-activation ResNet-18, CIFAR variant",
              (3, 32, 32), "2021 L7 (pre-activation ResNet)"),
    ModelSpec("cifar-fast", _M + "fastnet:CifarFastNet", "airbench-style fast CIFAR net (whitening init)",
              (3, 32, 32), "recipe cifar10-fast (beyond the course)"),
    # ---- vision: segmentation
    ModelSpec("unet-course", _M + "unet_course:CourseUNet", "the course's U-Net (Carvana)",
              (3, 112, 168), "2021 A3 (d)", task="binary segmentation"),
    ModelSpec("unet", _M + "unet:UNet", "configurable U-Net (depth, width, upsampling)",
              (1, 128, 128), "2021 L7 (U-Net); unet recipes", task="segmentation"),
    # ---- other families (classes maintained in mlp.py, cnn1d.py, rnn.py, tcn.py, transformer.py)
    ModelSpec("mlp", _M + "mlp:MLP", "configurable MLP (flattens its input)", (3, 32, 32),
              "2021 A2", {"in_features": 3072, "hidden": [300, 200, 100]}),
    ModelSpec("course-mlp", _M + "mlp:PytorchMLP", "the course's A2 PyTorch MLP", (3, 32, 32),
              "2021 A2", {"H": 32, "W": 32, "C": 3, "num_hidden_layers": [300, 200, 200, 200, 100]}),
    ModelSpec("cnn1d", _M + "cnn1d:CNN1D", "small 1-D CNN for MNIST-1D signals", (40,),
              "2021 L6 (1-D conv), MNIST-1D", task="signal classification"),
    ModelSpec("char-rnn", _M + "rnn:CharRNN", "character LSTM language model", (64,), "2021 A4 char-RNN",
              {"vocab_size": 65}, torch.int64, "language model"),
    ModelSpec("gpt", _M + "transformer:GPT", "GPT-style character model", (64,), "2021 L9 (transformers), A4",
              {"vocab_size": 65}, torch.int64, "language model"),
    ModelSpec("rnn-tagger", _M + "rnn:RNNTagger", "bidirectional GRU per-time-step tagger (ECG)", (1024, 2),
              "2021 A4 trigger detection", task="sequence tagging"),
    ModelSpec("tcn", _M + "tcn:TCN", "temporal convolutional network tagger (ECG)", (1024, 2),
              "2021 L8 (TCN), A4 trigger task", task="sequence tagging"),
    ModelSpec("ecg-transformer", _M + "transformer:ECGDetector", "transformer encoder tagger (ECG)", (1024, 2),
              "2021 A4 trigger detection", task="sequence tagging"),
]}


def register_model(spec: ModelSpec) -> None:
    """Add (or replace) a registry entry, e.g. from a plug-in or another model family."""
    MODELS[spec.name] = spec


def list_models() -> list[ModelSpec]:
    """All registered models, in registry order."""
    return list(MODELS.values())


def get_spec(name: str) -> ModelSpec:
    """The entry for `name`; unknown names raise a `ConfigError` suggesting close names."""
    if name in MODELS:
        return MODELS[name]
    close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise ConfigError(f"unknown model {name!r}",
                      fix=f"{hint}run `dlcc models list` for the {len(MODELS)} model names")


def model_class(spec: ModelSpec) -> type[nn.Module]:
    module, cls = spec.target.split(":")
    return getattr(importlib.import_module(module), cls)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build the model `name` with its registry defaults overridden by `kwargs`."""
    spec = get_spec(name)
    cls = model_class(spec)
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in kwargs if k not in params and not takes_any]
    if unknown:
        accepted = [p for p in params if p not in ("self", "args", "kwargs")]
        raise ConfigError(f"model {name!r} has no argument(s) {', '.join(unknown)}",
                          fix=f"use some of: {', '.join(accepted)}")
    return cls(**{**spec.defaults, **kwargs})
