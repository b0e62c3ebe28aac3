#!/bin/bash
# Ask for MIG configuration access when a selected GPU has MIG enabled (spec §10).
set -euo pipefail
dev=$(grep '^NVIDIA_VISIBLE_DEVICES=' "${ENROOT_ENVIRON}" | tail -n1 | cut -d= -f2- || true)
dev=${NVIDIA_VISIBLE_DEVICES:-${dev}}
case "${dev}" in "" | void | none | *MIG-* | *:*) exit 0 ;; esac
[ "${dev}" = all ] && sel=() || sel=(-i "${dev}")
if nvidia-smi "${sel[@]}" --query-gpu=mig.mode.current --format=csv,noheader 2>/dev/null | grep -q Enabled; then
	echo "NVIDIA_MIG_CONFIG_DEVICES=all" >>"${ENROOT_ENVIRON}"
fi
