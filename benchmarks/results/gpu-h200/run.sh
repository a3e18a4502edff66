#!/bin/bash
# one device call: install, the CUDA tests, then issue 19's MNIST seed 2 with DEC's whole budget (resumes)
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
LIMIT=${1:-560}; TESTS=${2:-1}
T0=$(date +%s); el(){ echo "[$(( $(date +%s)-T0 ))s] $*"; }
python3 -c "import clustpy" 2>/dev/null || python3 -m pip install -q --no-deps --no-build-isolation .gpu/clustpy-0.0.3.tar.gz 2>&1 | tail -3
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -3
el installed
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, clustpy, clustpy_acedec; print(torch.__version__, torch.cuda.get_device_name(0))"
if [ "$TESTS" = 1 ]; then
  timeout 150 python3 -m pytest -q -p no:cacheprovider --timeout 90 -rfEs tests/test_gpu.py 2>&1 | tee $OUT/gpu-tests.log | tail -40
  el tests
fi
mkdir -p bench_output/paper-gpu
REM=$(( LIMIT - ($(date +%s)-T0) ))
el "bench for at most ${REM}s"
timeout $REM clustpy-acedec-bench --paper --datasets MNIST --methods "ACe/DeC+DCN" "AE + k-means" --seeds 2 --device cuda --precision bfloat16 --data-dir .gpu --output bench_output/paper-gpu > $OUT/mnist.log 2>&1
echo "bench rc $?"; tr '\r' '\n' < $OUT/mnist.log | grep -v '^\s*$' | tail -25
el bench
ls -la bench_output/paper-gpu bench_output/paper-gpu/autoencoders 2>/dev/null
cp bench_output/paper-gpu/results.jsonl bench_output/paper-gpu/report.md $OUT/ 2>/dev/null
el done
