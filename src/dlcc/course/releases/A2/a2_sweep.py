"""A2, part (e): a hyper-parameter sweep that selects on the validation split.

The 2021 course ran this sweep with Weights & Biases; its config is COURSE_SWEEP below. It
maximised `accu_test`, the accuracy on the TEST split: the sweep picked hyper-parameters by
their test score (see questions.md, A2.Q9, for why that is a mistake).

Your job: write the same search for `dlcc sweep`, which runs the `cifar10-mlp` recipe once per
trial, on an Optuna study, offline. `dlcc sweep` reads the same wandb-style dict, but

  * the metric must be measured on the validation split (dlcc's name: val_accuracy);
  * parameter names are the recipe's settings, not the course script's arguments. List them
    with `dlcc run cifar10-mlp --show` (e.g. learning_rate -> train.lr).

Then run `python a2_sweep.py` to write result/sweep_space.yaml and print the command that
starts the sweep (a few trials with few epochs take minutes; the course ran 50 trials on GPUs).
"""

from __future__ import annotations

import copy

import util

COURSE_SWEEP = {
    "method": "random",
    "metric": {"name": "accu_test", "goal": "maximize"},
    "parameters": {
        "seeds": {"min": 1, "max": 2**32},
        "epochs": {"values": [30, 40, 50, 60, 70]},
        "batch_size": {"values": [256, 512]},
        "learning_rate": {"min": 0.05, "max": 0.2},
        "reg": {"values": [0, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 1e-1]},
        "num_hidden_layers": {"values": [[300, 200, 100], [300, 300, 200, 100], [200, 100],
                                         [300, 300], [200, 200, 200, 200, 100]]},
        "optimizer": {"values": ["adam", "sgd"]},
        "scheduler": {"values": ["one_cycle", "step"]},
    },
}


def make_sweep_config() -> dict:
    """The course's search, as a wandb-style dict that `dlcc sweep cifar10-mlp` accepts.

    Requirements:
      * the same method ("random") and the same ranges and choices as COURSE_SWEEP for every
        parameter, under the cifar10-mlp recipe's setting names (and its value names: the
        recipe calls the OneCycle schedule "onecycle");
      * a metric on the validation split, maximised.
    Returns:
        {"method": ..., "metric": {"name": ..., "goal": ...}, "parameters": {...}}
    """
    # TODO (A2.9): your code here
    # HINT: start from copy.deepcopy(COURSE_SWEEP) and rename; `dlcc run cifar10-mlp --show`
    # HINT: lists the recipe's settings (nested ones are written with dots, e.g. train.lr)
    raise NotImplementedError("A2.9: this part of make_sweep_config() is not implemented yet")
    return config


def main() -> None:
    import yaml

    config = make_sweep_config()
    path = util.RESULT_DIR / "sweep_space.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"wrote {path}; start the sweep with e.g.\n"
          f"  dlcc sweep cifar10-mlp --space {path} --trials 20 --out result/sweep\n"
          "add e.g. --set data.subset=10000 and a space with fewer epochs for a quick try; the best\n"
          "configuration is re-run once and only then evaluated on the test split (best.json).")


if __name__ == "__main__":
    main()
