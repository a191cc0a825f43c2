"""`Lookahead`: an exponential moving average of the weights that the weights jump back to.

Every `every` optimizer steps `ema ← decay·ema + (1 − decay)·w` and then `w ← ema` (as in
airbench). The decay follows `decay(progress) = base ** every · progress ** 3` - near 0 early,
so the weights move freely, and rising late to average away the noise of the last steps. At the
end the model gets the average. Floating-point buffers (BatchNorm statistics) are averaged too.
"""

from __future__ import annotations

import torch

from dlcc.train.callbacks import Callback


class Lookahead(Callback):
    """Args:
        every: optimizer steps between averages.
        base: the per-step decay the average approaches at the end.

    The decay follows `trainer.fraction_done()`, so it also follows a time budget.
    """

    def __init__(self, every: int = 5, base: float = 0.95):
        self.every, self.base = int(every), float(base)
        self.ema: dict[str, torch.Tensor] | None = None

    def on_fit_start(self, trainer):
        if self.ema is None:
            self.ema = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()
                        if v.dtype.is_floating_point}

    @torch.no_grad()
    def _update(self, model, decay: float) -> None:
        for k, v in model.state_dict().items():
            if k in self.ema:
                self.ema[k].lerp_(v, 1.0 - decay)
                v.copy_(self.ema[k])

    def on_batch_end(self, trainer, step, loss, lr):
        if step % self.every == 0:
            self._update(trainer.model, self.base ** self.every * trainer.fraction_done() ** 3)

    def on_fit_end(self, trainer, metrics):
        self._update(trainer.model, 1.0)   # w <- ema

    def state_dict(self):
        return {"ema": self.ema}

    def load_state_dict(self, state):
        self.ema = state["ema"]
