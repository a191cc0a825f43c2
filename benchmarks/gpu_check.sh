#!/usr/bin/env bash
# The GPU check, in one call of a lent GPU machine (about 8 minutes on an H200): the `gpu`
# smoke tests of every recipe whose data is there, then cifar10-fast over 5 seeds and char-gpt
# at nanoGPT's shakespeare-char configuration (benchmarks/bench_gpu.py). See DEVELOPERS.md
# ("A GPU, when one is lent") for how the data gets onto the machine.
#
#   DLCC_DATA=~/dlcc-data bash benchmarks/gpu_check.sh            # results into $OUT or benchmarks/results
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_TINY=1 bash benchmarks/gpu_check.sh   # a dry run of the script on a CPU
#
# Runs from the source tree (the GPU machine has torch but not every extra dlcc declares).
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS="${OUT:-benchmarks/results}"
DEVICE="${GPU_CHECK_DEVICE:-cuda}"
mkdir -p "$RESULTS"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg OMP_WAIT_POLICY=PASSIVE
export DLCC_DATA="${DLCC_DATA:-$HOME/dlcc-data}"
status=0

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } \
  > "$RESULTS/gpu_machine.txt" 2>&1

# 1. smoke tests (a few steps per recipe on the device)
DLCC_GPU_TESTS_DEVICE="$DEVICE" timeout 300 python3 -m pytest -m gpu -q -p no:cacheprovider tests/gpu \
  > "$RESULTS/gpu_smoke.txt" 2>&1 || status=1
tail -n 3 "$RESULTS/gpu_smoke.txt"

# 2. the bars (tiny settings for a CPU dry run of this script)
args=(--device "$DEVICE" --save "$RESULTS/gpu_check")
if [ -n "${GPU_CHECK_TINY:-}" ]; then
  args+=(--seeds 1 --cifar-set data.subset=1024 --cifar-set data.test_subset=500 --cifar-set train.epochs=1
         --gpt-set data.corpus=embedded --gpt-set train.steps=4 --gpt-set train.eval_every=2
         --gpt-set model.n_layer=1 --gpt-set model.n_embd=48 --gpt-set data.seq_len=32
         --gpt-set data.eval_batches=2 --gpt-set train.warmup_steps=1 --gpt-set sample.length=10)
fi
timeout 480 python3 benchmarks/bench_gpu.py "${args[@]}" > "$RESULTS/gpu_check_log.txt" 2>&1 || status=1
tail -n 30 "$RESULTS/gpu_check_log.txt"
exit "$status"
