#!/bin/bash
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
T0=$(date +%s); el(){ echo "[$(( $(date +%s)-T0 ))s] $*"; }
python3 -m pip install -q --no-deps --no-build-isolation .gpu/clustpy-0.0.3.tar.gz 2>&1 | tail -2
el installed
cd .gpu
timeout 35 python3 probe.py plain 2>&1 | tee -a $OUT/probe.log; el plain
timeout 45 python3 probe.py ours 2>&1 | tee -a $OUT/probe.log; el ours
timeout 45 python3 probe.py eager 2>&1 | grep -v Warn | tail -3 | tee -a $OUT/probe.log; el eager
timeout 100 python3 probe.py compiled 2>&1 | grep -v Warn | tail -5 | tee -a $OUT/probe.log; el compiled
