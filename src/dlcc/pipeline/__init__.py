"""Versioned pipelines: a recipe as a DVC project (`dlcc pipeline init RECIPE DIR`).

    prepare   params: pipeline.recipe, seed, data    ->  data/  (train/val/test arrays + manifest.json)
    train     params: pipeline.*, seed, model, train ->  model/ (a run directory: config.yaml, model.pt, history.json)
    evaluate  deps: model/, data/test.npz            ->  metrics.json (no timings), timings.json, eval/
    export    params: pipeline.export_format         ->  export/ (ONNX or TorchScript with metadata)

`project.py` writes the project (dvc.yaml, params.yaml, git and dvc init), `stages.py` runs one
stage from params.yaml, `datasets.py` knows how each dataset is prepared and loaded,
`params.py` maps params.yaml to the recipe's typed config, `tools.py` finds and runs dvc and git.
See docs/pipeline.md.
"""

from dlcc.pipeline.params import TIMING_SUFFIX, is_timing
from dlcc.pipeline.project import init_project
from dlcc.pipeline.stages import STAGES, run_stage

__all__ = ["STAGES", "TIMING_SUFFIX", "init_project", "is_timing", "run_stage"]
