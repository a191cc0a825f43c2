"""Meta-learning for small data: N-way K-shot episodes, prototypical networks, MAML.

    episodes.py   EpisodeSampler (support/query split from chosen classes), TaskBatches
    protonet.py   prototypes, squared distances, the ProtoNet loss and training step
    maml.py       the inner loop (first- or second-order), the MAML training step
    hvp.py        Hessian-vector products by double backprop, checked by finite differences,
                  and MAML's meta-gradient split into its first-order and HVP parts
    evaluate.py   mean accuracy with a 95 % confidence interval over test episodes

Recipes: mnist-protonet, cifar10-protonet, mnist-maml (docs/fewshot.md).
"""

from dlcc.fewshot.episodes import Episode, EpisodeSampler, TaskBatches
from dlcc.fewshot.evaluate import evaluate_episodes, mean_ci95
from dlcc.fewshot.hvp import finite_difference_hvp, hvp, maml_meta_gradient_parts
from dlcc.fewshot.maml import MAMLStep, adapt, maml_predict, task_loss
from dlcc.fewshot.protonet import ProtoNetStep, protonet_logits, protonet_loss, protonet_predict, prototypes, squared_distances

__all__ = ["Episode", "EpisodeSampler", "MAMLStep", "ProtoNetStep", "TaskBatches", "adapt", "evaluate_episodes",
           "finite_difference_hvp", "hvp", "maml_meta_gradient_parts", "maml_predict", "mean_ci95",
           "protonet_logits", "protonet_loss", "protonet_predict", "prototypes", "squared_distances", "task_loss"]
