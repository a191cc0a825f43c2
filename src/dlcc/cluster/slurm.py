"""Slurm batch scripts for dlcc runs and sweeps (`dlcc slurm RECIPE ...`, `dlcc slurm sweep ...`).

A run script starts one `torchrun` per node with `srun` (torchrun then starts one process per
GPU), with the c10d rendezvous on the first node of the allocation. It asks Slurm for a signal
two minutes before the time limit (and catches preemption's SIGTERM), requeues the job, and the
requeued job resumes from the last checkpoint: the script passes `--resume` whenever the run
directory already holds one. A sweep script is a job array whose tasks are Optuna workers of
one study on a PostgreSQL server; task 0 also re-runs the best configuration on the test split.

The scripts are plain bash, checked with shellcheck in the tests, and use only the Slurm
variables every site has (SLURM_JOB_ID, SLURM_JOB_NODELIST, SLURM_NNODES, SLURM_NODEID,
SLURM_ARRAY_TASK_ID).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from dlcc.errors import ConfigError

TIME = re.compile(r"^(\d+-)?\d{1,2}(:\d{2}){0,2}$")


@dataclass
class Resources:
    nodes: int = 1
    gpus_per_node: int = 0          # 0: CPU processes (gloo), `procs_per_node` of them
    procs_per_node: int = 1         # with GPUs: one per GPU
    cpus_per_task: int = 8
    mem: str | None = None          # e.g. "64G"
    time: str = "04:00:00"
    partition: str | None = None
    account: str | None = None
    extra: list[str] = field(default_factory=list)    # more #SBATCH lines, e.g. "--qos=long"

    def check(self) -> None:
        for name, value, low in (("--nodes", self.nodes, 1), ("--gpus-per-node", self.gpus_per_node, 0),
                                 ("--procs-per-node", self.procs_per_node, 1), ("--cpus-per-task", self.cpus_per_task, 1)):
            if value < low:
                raise ConfigError(f"{name} {value}: must be >= {low}", fix=f"e.g. {name} {max(low, 1)}")
        if not TIME.match(self.time):
            raise ConfigError(f"--time {self.time!r} is not a Slurm time limit",
                              fix="use HH:MM:SS, MM:SS or D-HH:MM:SS, e.g. --time 04:00:00")
        for value in (self.partition, self.account, self.mem):
            if value is not None and not re.fullmatch(r"[\w.,:+-]+", value):
                raise ConfigError(f"{value!r} is not a valid Slurm name", fix="use letters, digits, '-', '_', '.'")

    @property
    def per_node(self) -> int:
        return self.gpus_per_node or self.procs_per_node

    def header(self, job_name: str, output: str) -> list[str]:
        lines = ["#!/usr/bin/env bash", f"#SBATCH --job-name={job_name}", f"#SBATCH --nodes={self.nodes}",
                 "#SBATCH --ntasks-per-node=1", f"#SBATCH --cpus-per-task={self.cpus_per_task}",
                 f"#SBATCH --time={self.time}", f"#SBATCH --output={output}"]
        if self.gpus_per_node:
            lines.append(f"#SBATCH --gpus-per-node={self.gpus_per_node}")
        for option, value in (("partition", self.partition), ("account", self.account), ("mem", self.mem)):
            if value:
                lines.append(f"#SBATCH --{option}={value}")
        lines += [f"#SBATCH {e}" for e in self.extra]
        return lines


def run_script(recipe: str, out_dir: str, sets: list[str], res: Resources, device: str = "auto") -> str:
    """The sbatch script of one (multi-node) training run that requeues and resumes itself."""
    res.check()
    q = shlex.quote
    run_args = " ".join(q(a) for a in ["--out", out_dir, "--device", device, "--no-progress",
                                       *(["--set", *sets] if sets else [])])
    lines = res.header(f"dlcc-{recipe}", f"{out_dir}.slurm-%j.out") + [
        "#SBATCH --requeue",
        "#SBATCH --signal=B:USR1@120",
        "# Written by `dlcc slurm`; resubmit with sbatch. Requeued jobs resume from the last checkpoint.",
        "set -euo pipefail",
        f"OUT={q(out_dir)}",
        'MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "MASTER_PORT=${MASTER_PORT:-$((29500 + SLURM_JOB_ID % 1000))}",
        "RESUME=()",
        'if [ -f "$OUT/checkpoints/last.pt" ]; then RESUME=(--resume); fi',
        "requeue() {",
        '    echo "dlcc: time limit or preemption: requeueing job $SLURM_JOB_ID (it will resume)"',
        '    kill -TERM "$pid" 2>/dev/null || true',
        '    wait "$pid" || true',
        '    scontrol requeue "$SLURM_JOB_ID"',
        "    exit 0",
        "}",
        "trap requeue USR1 TERM",
        "srun --kill-on-bad-exit=1 python -m torch.distributed.run \\",
        '    --nnodes "$SLURM_NNODES" --nproc-per-node ' + str(res.per_node) + ' --node-rank "$SLURM_NODEID" \\',
        '    --rdzv-backend c10d --rdzv-endpoint "$MASTER_ADDR:$MASTER_PORT" --rdzv-id "$SLURM_JOB_ID" \\',
        f'    -m dlcc run {q(recipe)} {run_args} "${{RESUME[@]}}" &',
        "pid=$!",
        'wait "$pid"',
    ]
    return "\n".join(lines) + "\n"


def sweep_script(recipe: str, space: str, storage: str, study: str, trials: int, workers: int, out_dir: str,
                 sets: list[str], res: Resources, device: str = "auto") -> str:
    """An array job: `workers` Optuna workers of one PostgreSQL study (task 0 also runs the
    final test evaluation of the best configuration)."""
    res.check()
    if workers < 1 or trials < 1:
        raise ConfigError(f"--workers {workers} --trials {trials}: both must be >= 1", fix="e.g. --workers 8 --trials 64")
    if not storage.startswith(("postgresql", "mysql")):
        raise ConfigError(f"--storage {storage!r}: workers on several machines share a study through a database "
                          "server", fix="--storage postgresql+psycopg://USER@HOST:5432/DB")
    q = shlex.quote
    fixed = " ".join(q(a) for a in (["--set", *sets] if sets else []))
    lines = res.header(f"dlcc-sweep-{recipe}", f"{out_dir}/slurm-%A_%a.out") + [
        f"#SBATCH --array=0-{workers - 1}",
        "# Written by `dlcc slurm sweep`; each array task is one Optuna worker of the same study.",
        "set -euo pipefail",
        f"OUT={q(out_dir)}",
        "FINAL=(--no-final)",
        'if [ "$SLURM_ARRAY_TASK_ID" = 0 ]; then FINAL=(); fi',
        f'python -m dlcc sweep {q(recipe)} --space {q(space)} --trials {trials} --storage {q(storage)} '
        f'--study {q(study)} --device {q(device)} --out "$OUT/worker-$SLURM_ARRAY_TASK_ID" {fixed} "${{FINAL[@]}}"'.replace("  ", " "),
    ]
    return "\n".join(lines) + "\n"
