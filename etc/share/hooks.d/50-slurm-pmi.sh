#!/bin/bash
# Pass Slurm, PMIx and PMI variables into the container (spec §10, 50-slurm-pmi).
set -euo pipefail
[ -n "${SLURM_JOB_ID-}" ] && [ -n "${SLURM_STEP_ID-}" ] || exit 0
compgen -e | grep '^SLURM_' | while read -r v; do printf '%s=%s\n' "$v" "${!v}"; done >>"${ENROOT_ENVIRON}"
if [ -z "${SLURM_MPI_TYPE-}" ] || [[ ${SLURM_MPI_TYPE} == pmix* ]]; then
	if compgen -e | grep -q '^PMIX_'; then
		compgen -e | grep '^PMIX_' | while read -r v; do printf '%s=%s\n' "$v" "${!v}"; done >>"${ENROOT_ENVIRON}"
		[ -n "${PMIX_MCA_ptl-}" ] || [ -z "${PMIX_PTL_MODULE-}" ] || echo "PMIX_MCA_ptl=${PMIX_PTL_MODULE}" >>"${ENROOT_ENVIRON}"
		[ -n "${PMIX_MCA_psec-}" ] || [ -z "${PMIX_SECURITY_MODE-}" ] || echo "PMIX_MCA_psec=${PMIX_SECURITY_MODE}" >>"${ENROOT_ENVIRON}"
		[ -n "${PMIX_MCA_gds-}" ] || [ -z "${PMIX_GDS_MODULE-}" ] || echo "PMIX_MCA_gds=${PMIX_GDS_MODULE}" >>"${ENROOT_ENVIRON}"
		if [ -n "${PMIX_SERVER_TMPDIR-}" ]; then
			echo "${PMIX_SERVER_TMPDIR// /\\040} ${PMIX_SERVER_TMPDIR// /\\040} none x-create=dir,bind,rw,nosuid,nodev,nofail" >>"${ENROOT_MOUNTS}"
		fi
	fi
fi
compgen -e | grep '^PMI_' | while read -r v; do printf '%s=%s\n' "$v" "${!v}"; done >>"${ENROOT_ENVIRON}" || true
