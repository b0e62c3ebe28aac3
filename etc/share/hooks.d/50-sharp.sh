#!/bin/bash
# SHARP settings for Slurm jobs asking for it (spec §10, 50-sharp).
set -euo pipefail
dev=$(grep '^MELLANOX_VISIBLE_DEVICES=' "${ENROOT_ENVIRON}" | tail -n1 | cut -d= -f2- || true)
dev=${MELLANOX_VISIBLE_DEVICES:-${dev}}
case "${dev}" in "" | void | none) exit 0 ;; esac
[ "${SLURM_NETWORK-}" = sharp ] || exit 0
has() { grep -q "^$1=" "${ENROOT_ENVIRON}"; }
has SHARP_COLL_LOCK_ON_COMM_INIT || echo "SHARP_COLL_LOCK_ON_COMM_INIT=1" >>"${ENROOT_ENVIRON}"
has SHARP_COLL_NUM_COLL_GROUP_RESOURCE_ALLOC_THRESHOLD || echo "SHARP_COLL_NUM_COLL_GROUP_RESOURCE_ALLOC_THRESHOLD=0" >>"${ENROOT_ENVIRON}"
has NCCL_COLLNET_ENABLE || echo "NCCL_COLLNET_ENABLE=1" >>"${ENROOT_ENVIRON}"
has NCCL_SHARP_GROUP_SIZE_THRESH || echo "NCCL_SHARP_GROUP_SIZE_THRESH=${SLURM_STEP_NUM_NODES:-${OMPI_MCA_orte_num_nodes:-1}}" >>"${ENROOT_ENVIRON}"
