"""The lectures, in course order: id, title, page, companion module, quiz and assignment.

Ids are what `dlcc lecture run ID` takes. A lecture whose companion is not written yet is
listed with `companion=None`, so `dlcc lecture list` can say it is coming rather than pretend
to run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlcc.errors import InputError


@dataclass(frozen=True)
class Lecture:
    """One lecture.

    Attributes:
        id: "prologue", "L1".."L12", "math" or "closing".
        title: the page title.
        page: the site page, relative to docs/ (e.g. "lectures/l03-backprop.md").
        companion: module name under `dlcc.lectures.companions`, or None if not written yet.
        assignment: the assignment that practises it ("A1".."A8"), or None.
        aliases: other spellings `find_lecture` accepts.
    """

    id: str
    title: str
    page: str
    companion: str | None
    assignment: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.companion is not None


LECTURES: tuple[Lecture, ...] = (
    Lecture("prologue", "Prologue: why deep learning, and how this course works",
            "lectures/prologue.md", "prologue", None, ("p", "l0", "0")),
    Lecture("L1", "Lecture 1: the data-driven approach, classification and the MLP",
            "lectures/l01-mlp.md", "l01_mlp", "A1"),
    Lecture("L2", "Lecture 2: loss functions, gradient descent, bias and variance",
            "lectures/l02-loss-gd.md", "l02_loss_gd", "A1"),
    Lecture("L3", "Lecture 3: backpropagation",
            "lectures/l03-backprop.md", "l03_backprop", "A2"),
    Lecture("math", "Math session: gradients of binary and multi-class MLPs, step by step",
            "lectures/math-session.md", "math_session", "A1", ("m", "maths")),
    Lecture("L4", "Lecture 4: optimisation, learning-rate schedules, hyper-parameter search",
            "lectures/l04-optimisation.md", "l04_optimisation", "A2"),
    Lecture("L5", "Lecture 5: data, initialisation and debugging",
            "lectures/l05-data-init-debug.md", "l05_data_init_debug", "A2"),
    Lecture("L6", "Lecture 6: convolutional networks, the basics",
            "lectures/l06-cnn-basics.md", "l06_cnn_basics", "A3"),
    Lecture("L7", "Lecture 7: CNN architectures and applications",
            "lectures/l07-cnn-architectures.md", "l07_cnn_architectures", "A3"),
    Lecture("L8", "Lecture 8: recurrent networks and temporal convolutions",
            "lectures/l08-rnn.md", "l08_rnn", "A4"),
    Lecture("L9", "Lecture 9: attention and transformers",
            "lectures/l09-attention.md", "l09_attention", "A4"),
    Lecture("L10", "Lecture 10: generative models and GANs",
            "lectures/l10-gan.md", "l10_gan", "A5"),
    Lecture("L11", "Lecture 11: adversarial examples and visualisation",
            "lectures/l11-adversarial-saliency.md", "l11_adversarial_saliency", "A5"),
    Lecture("L12", "Lecture 12: learning from small data",
            "lectures/l12-small-data.md", "l12_small_data", "A8"),
    Lecture("closing", "Closing: MLOps and machine-learning system design",
            "lectures/closing.md", "closing", None, ("c", "close")),
)


def _key(text: str) -> str:
    """Normalise "L03", "l3", "3", "Lecture 3" to "l3"; other names to lower case."""
    text = text.strip().lower().replace("lecture", "l").replace(" ", "")
    m = re.fullmatch(r"l?0*(\d+)", text)
    return f"l{m.group(1)}" if m else text


def find_lecture(name: str) -> Lecture:
    """The lecture called `name` (case-insensitive; "L3", "3", "l03", "prologue", "math").

    Raises:
        InputError: no such lecture; the message lists the valid ids.
    """
    key = _key(str(name))
    for lecture in LECTURES:
        if key == _key(lecture.id) or key in lecture.aliases:
            return lecture
    ids = ", ".join(lecture.id for lecture in LECTURES)
    raise InputError(f"no lecture called {name!r}", fix=f"use one of: {ids} (see `dlcc lecture list`)")
