"""The NumPy engine: layers, losses, optimizers, schedules, init, gradcheck and autograd.

Every layer follows PyTorch's names, shapes and parameter layouts, so the weights of a torch
module can be copied in and the two compared (see tests/scratch). The contract:

    y = layer.forward(x)      # caches what backward needs
    dx = layer.backward(dy)   # returns dL/dx and fills layer.grads (same keys as layer.params)
"""

from dlcc.scratch.base import Module, check_array

__all__ = ["Module", "check_array"]
