"""Device choice: CUDA, then Apple MPS, then CPU, unless the user says otherwise."""

from __future__ import annotations

from dlcc.errors import ConfigError

VALID = ("auto", "cpu", "cuda", "mps")


def choose_device(requested: str = "auto"):
    """Return a `torch.device` for `requested` ("auto", "cpu", "cuda", "cuda:1", "mps").

    Raises:
        ConfigError: the requested device does not exist on this machine.
    """
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = requested.split(":")[0]
    if kind not in VALID:
        raise ConfigError(f"unknown device {requested!r}; expected one of {', '.join(VALID)}",
                          fix="use --device auto (or cpu)")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but torch sees no CUDA GPU",
                          fix="use --device cpu, or install a CUDA build of torch (see `dlcc doctor`)")
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError("device 'mps' was requested but it is not available",
                              fix="use --device cpu")
    return torch.device(requested)


def describe_devices() -> dict:
    """What compute this machine offers, as a JSON-able dict (used by `dlcc doctor`)."""
    import os

    import torch

    info = {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(), "cuda_devices": [], "mps": False}
    if info["cuda"]:
        info["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    info["mps"] = bool(mps is not None and mps.is_available())
    return info
