#!/bin/bash
# PyTorch distributed variables from Slurm (spec §10, 50-slurm-pytorch).
set -euo pipefail
grep -q '^PYTORCH_VERSION=' "${ENROOT_ENVIRON}" || exit 0
has() { grep -q "^$1=" "${ENROOT_ENVIRON}"; }
has MASTER_ADDR || echo "MASTER_ADDR=$(scontrol show hostname "${SLURM_STEP_NODELIST}" | head -n1)" >>"${ENROOT_ENVIRON}"
has MASTER_PORT || echo "MASTER_PORT=$((SLURM_JOB_ID % 4536 + 61000))" >>"${ENROOT_ENVIRON}"
has WORLD_SIZE || echo "WORLD_SIZE=${SLURM_NTASKS}" >>"${ENROOT_ENVIRON}"
has RANK || echo "RANK=${SLURM_PROCID}" >>"${ENROOT_ENVIRON}"
has LOCAL_RANK || echo "LOCAL_RANK=${SLURM_LOCALID}" >>"${ENROOT_ENVIRON}"
if ! has OMP_NUM_THREADS && [ "${SLURM_STEP_NUM_TASKS:-1}" -gt "${SLURM_STEP_NUM_NODES:-1}" ]; then
	echo "OMP_NUM_THREADS=1" >>"${ENROOT_ENVIRON}"
fi
