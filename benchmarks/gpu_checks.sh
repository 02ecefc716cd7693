#!/usr/bin/env bash
# The GPU checks, in one run on a machine with CUDA (about 5 minutes on an
# H200): tests/test_gpu.py, the whole suite with device='auto' (so on the
# GPU), and the GPU rows of benchmarks/training_throughput.py beside the same
# machine's CPU rows. Each step's output is also written to OUT_DIR.
#
#   bash benchmarks/gpu_checks.sh DATA_DIR [OUT_DIR]
#
# DATA_DIR holds binarized_mnist/ (random binary images are used without
# it). The suite's documentation tests fail where sphinx is not installed.
set -u
cd "$(dirname "$0")/.."
data=${1:-}
out=${2:-gpu-results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, sklearn; print('torch', torch.__version__, 'sklearn', sklearn.__version__, 'cuda', torch.cuda.is_available())"
} 2>&1 | tee "$out/env.txt"
timeout 150 python3 -m pytest -p no:cacheprovider -o addopts="" -v -rA \
  tests/test_gpu.py 2>&1 | tee "$out/test_gpu.txt" | tail -12
parallel=$(python3 -c "import xdist" 2>/dev/null && echo "-n 12")
timeout 300 python3 -m pytest -p no:cacheprovider -o addopts="" -m "not slow" \
  -q -rf $parallel tests 2>&1 | tee "$out/suite_gpu.txt" | tail -15
for batch in 128 1024; do
  epochs=$([ $batch = 128 ] && echo 3 || echo 5)  # as recorded
  for device in cuda cpu; do
    timeout 150 python3 benchmarks/training_throughput.py $data --epochs $epochs \
      --batch-size $batch --device $device 2>&1 | tee "$out/throughput_${device}_$batch.txt"
  done
done
