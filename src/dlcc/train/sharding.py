"""Fully sharded data parallel (FSDP, `--set train.parallel=fsdp`): for models too big for one device.

With DistributedDataParallel every process holds the whole model, its gradients and its
optimizer state. FSDP (torch's `fully_shard`, "FSDP2") splits all three across the processes:
each rank keeps 1/W of every parameter tensor and gathers a unit's full weights just before the
unit runs, then frees them. A model opts in by naming its units (`shard_units()`, e.g. the GPT's
transformer blocks): each unit is gathered on its own, so only one block's full weights need
to fit at a time. The model is sharded while it is still on the CPU, so each GPU only ever
receives its shards (rank 0 also keeps an unsharded CPU copy, in which it evaluates and saves
the trained weights). The batches are sharded exactly as with DDP (distributed.py), so W
processes at batch B still take the steps of one process at batch W·B.

Sharded parameters are DTensors. Everything that reads or writes the weights goes through the
functions below, which gather a full state dict (on rank 0, on the CPU) or scatter one; they
are collective: every rank must call them, in the same order. For an unsharded model they are
plain `state_dict()` / `load_state_dict()`.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from dlcc.errors import ConfigError


def is_sharded(model: nn.Module) -> bool:
    """Whether `fully_shard` has been applied to `model` (its root)."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def shard(model: nn.Module, param_groups: list[dict] | None, what: str,
          device: torch.device) -> tuple[nn.Module, list[dict] | None]:
    """Shard `model` in place across the process group; returns (an unsharded CPU copy for
    rank 0's evaluation, the parameter groups rebuilt on the sharded parameters).

    `fully_shard` replaces every parameter with a sharded one, so optimizer groups built on the
    old parameters are mapped to the new ones by name (build the optimizer afterwards).
    """
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    units = getattr(model, "shard_units", None)
    if not callable(units):
        raise ConfigError(f"train.parallel=fsdp: {what}'s model does not say how to shard it "
                          "(FSDP is offered for char-gpt, whose transformer blocks are the units)",
                          fix="--set train.parallel=ddp (every process then holds the whole model)")
    names = {id(p): n for n, p in model.named_parameters()}
    groups = None if param_groups is None else [
        {**g, "params": [names[id(p)] for p in g["params"]]} for g in param_groups]
    plain = copy.deepcopy(model).cpu()
    # the run's device, not torch's default accelerator (`--device cpu` on a GPU machine)
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    for unit in units():
        fully_shard(unit, mesh=mesh)
    fully_shard(model, mesh=mesh)
    if groups is not None:
        params = dict(model.named_parameters())
        groups = [{**g, "params": [params[n] for n in g["params"]]} for g in groups]
    return plain, groups


def _options(**kw):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kw)


def model_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's full state dict. Sharded: gathered on rank 0 (CPU), {} on the other ranks."""
    if not is_sharded(model):
        from dlcc.train.distributed import unwrap

        return unwrap(model).state_dict()
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(model, options=_options(cpu_offload=True))


def load_model_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a full state dict (`model_state`'s); sharded: rank 0's is scattered to every rank."""
    if not is_sharded(model):
        from dlcc.train.distributed import unwrap

        unwrap(model).load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import set_model_state_dict

    set_model_state_dict(model, state, options=_options(broadcast_from_rank0=True))


def optimizer_state(model: nn.Module, optimizer) -> dict:
    """The optimizer's full state dict (sharded: keyed by parameter name, on rank 0)."""
    if not is_sharded(model):
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    return get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True))


def load_optimizer_state(model: nn.Module, optimizer, state: dict) -> None:
    """Load what `optimizer_state` returned."""
    if not is_sharded(model):
        optimizer.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

    set_optimizer_state_dict(model, optimizer, state, options=_options(broadcast_from_rank0=True))
