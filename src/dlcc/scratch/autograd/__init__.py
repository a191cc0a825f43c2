"""A small reverse-mode autograd engine for the backprop lecture.

* `Value`: one float and its gradient, micrograd-style, to draw and follow a computational graph.
* `Tensor`: an n-d array version with NumPy broadcasting, where backward sums gradients over the
  broadcast axes.

Both build the graph as operations run, and `backward()` visits it once in reverse topological
order, so a node used on several paths gets the sum of their contributions.
"""

from dlcc.scratch.autograd.tensor import Tensor
from dlcc.scratch.autograd.value import Value

__all__ = ["Tensor", "Value"]
