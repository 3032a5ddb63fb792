#!/usr/bin/env bash
# A real Slurm job array: starts slurmctld + slurmd on localhost with a throw-away
# configuration (auth/none: no munge key needed; Debian 12's slurm-wlm 22.05 has the plugin),
# submits a 4-point sweep with `cimsim sweep --slurm submit`, waits, merges, and checks that
# the merged table is byte-identical to the local executor's; then resubmits the failed points
# with --no-wait, polls squeue and merges with --merge. The daemons are stopped in all
# cases (trap). Exit 77 (CTest SKIP_RETURN_CODE) when Slurm's binaries are missing or when
# not run as root.
#
# Usage: tests/sweep/slurm_test.sh CIMSIM_BINARY SOURCE_DIR   (ctest -L slurm runs it)
set -euo pipefail
cimsim="$1"
src="$2"

for tool in slurmctld slurmd sbatch scontrol sinfo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found (install slurm-wlm: scripts/setup --optional)"
    exit 77
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  # The daemons are started as root only (what CI has); running them as another user is untested.
  echo "SKIP: not root (this test starts slurmctld and slurmd as root only)"
  exit 77
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cimsim-slurm.XXXXXX")"
ctld_pid=""
slurmd_pid=""
cleanup() {
  local rc=$?
  # Stop only the daemons this script started, by their process id.
  for pid in $slurmd_pid $ctld_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $slurmd_pid $ctld_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # Job steps the daemons left behind run `cimsim sweep ... --point`: stop them by id too.
  for pid in $(pgrep -f -- "$work/" 2>/dev/null || true); do
    [ "$pid" != "$$" ] && kill "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    echo "--- slurmctld.log"; tail -n 30 "$work/slurmctld.log" 2>/dev/null || true
    echo "--- slurmd.log"; tail -n 30 "$work/slurmd.log" 2>/dev/null || true
  fi
  [ -n "${CIMSIM_SLURM_KEEP:-}" ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# Two free TCP ports (not the default 6817/6818: a real Slurm may run on this machine).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=$((20000 + ($$ % 10000) * 2))
while port_in_use "$base" || port_in_use "$((base + 1))"; do base=$((base + 2)); done

user=root
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=cimsimtest
SlurmctldHost=localhost
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/none
CredType=cred/none
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -i >/dev/null 2>&1 &
ctld_pid=$!
slurmd -D -N localhost >/dev/null 2>&1 &
slurmd_pid=$!
for _ in $(seq 100); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then break; fi
  sleep 0.2
done
state="$(sinfo -h -o %T 2>/dev/null || true)"
if [ "$state" != "idle" ]; then
  echo "FAIL: the localhost node did not become idle (sinfo: '$state')"
  exit 1
fi

# 4 points; the two with 1-bit cells need 5 cores for this model (tiny has 4) and fail, so
# failure rows go through Slurm too.
cat >"$work/spec.yaml" <<SPEC
model: $src/configs/sweeps/tiny_cnn.onnx
arch: $src/configs/tiny.yaml
input_shape: [1, 3, 8, 8]
axes:
  crossbar.cell_bits: [1, 2]
  pe.adcs: [1, 4]
SPEC

set +e
"$cimsim" sweep "$work/spec.yaml" -o "$work/slurm" --slurm submit --array-limit 2 --mem 200M \
  --partition debug --time 00:05:00 >"$work/submit.out" 2>"$work/submit.err"
submit_rc=$?
"$cimsim" sweep "$work/spec.yaml" -o "$work/local" -j 2 -q >/dev/null 2>"$work/local.err"
local_rc=$?
set -e
cat "$work/submit.err"
fail() { echo "FAIL: $*"; exit 1; }
[ "$submit_rc" -eq 1 ] || fail "--slurm submit exit code $submit_rc, expected 1 (two points fail)"
[ "$local_rc" -eq 1 ] || fail "local sweep exit code $local_rc, expected 1"
grep -q "4 points: 2 ok, 2 failed, 0 pending" "$work/submit.err" || fail "unexpected Slurm summary"
grep -Eq '^[0-9]+$' "$work/submit.out" || fail "no job id on stdout: $(cat "$work/submit.out")"
ls "$work/slurm/logs/" | grep -q '^slurm-[0-9]*_3.log$' || fail "no array task logs in $work/slurm/logs"
[ "$(grep -c ',ok,' "$work/slurm/results.csv")" -eq 2 ] || fail "expected 2 ok rows: $(cat "$work/slurm/results.csv")"
cmp "$work/slurm/results.csv" "$work/local/results.csv" || fail "results.csv differs between Slurm and local"
cmp "$work/slurm/results.json" "$work/local/results.json" || fail "results.json differs between Slurm and local"

# A submission Slurm refuses is an error with sbatch's message.
set +e
"$cimsim" sweep "$work/spec.yaml" -o "$work/refused" --slurm submit --partition nosuch >/dev/null 2>"$work/refused.err"
refused_rc=$?
set -e
[ "$refused_rc" -eq 1 ] || fail "refused submission: exit code $refused_rc, expected 1"
grep -q "submission refused.*invalid partition" "$work/refused.err" || fail "refused submission: $(cat "$work/refused.err")"
[ ! -e "$work/refused" ] || fail "a refused submission left $work/refused behind"

# Resubmitting runs only the failed points again (the complete ones are skipped); with
# --no-wait the command returns at once and --merge collects the results later.
"$cimsim" sweep "$work/spec.yaml" -o "$work/slurm" --slurm submit --no-wait >"$work/resubmit.out" 2>"$work/resubmit.err" ||
  fail "--no-wait submission: $(cat "$work/resubmit.err")"
grep -q '^#SBATCH --array=0-1$' "$work/slurm/sweep.sbatch" || fail "resubmitted array is not 0-1: $(grep array "$work/slurm/sweep.sbatch")"
job="$(cat "$work/resubmit.out")"
for _ in $(seq 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "job $job still queued after 60 s"
set +e
"$cimsim" sweep "$work/spec.yaml" -o "$work/slurm" --merge 2>"$work/merge.err"
merge_rc=$?
set -e
[ "$merge_rc" -eq 1 ] || fail "--merge exit code $merge_rc, expected 1 (two points fail)"
grep -q "4 points: 2 ok, 2 failed, 0 pending" "$work/merge.err" || fail "unexpected merge summary: $(cat "$work/merge.err")"
cmp "$work/slurm/results.csv" "$work/local/results.csv" || fail "results.csv differs after the resubmission"
echo "PASS: Slurm job array of 4 points merged; table identical to the local executor's"
