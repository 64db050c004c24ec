#!/usr/bin/env bash
# slurm-setup.sh: a single-node SLURM cluster on this host, for the
# research/slurm integration test and for trying `--runner slurm` by hand.
#
#   sudo scripts/slurm-setup.sh          # install (Debian/Ubuntu), configure, start
#   sudo scripts/slurm-setup.sh stop     # stop slurmctld, slurmd and munged
#   go test ./research/slurm/ -run Integration -v
#
# What it sets up: munge (authentication), slurmctld and slurmd on this host,
# one partition "debug" with this host as its only node, proctrack/linuxproc
# (no cgroups needed, so it works in containers), no accounting (sacct says
# so), no GPU. It overwrites /etc/slurm/slurm.conf; do not run it on a host
# that is part of a real cluster.
#
# Exit status 0 means `sinfo` shows the node idle and a test job ran.
set -euo pipefail

log() { echo "slurm-setup: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs packages and starts daemons)"
  exit 1
fi

stop_slurm() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if [ -s "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [ "${1:-}" = stop ]; then
  stop_slurm
  if [ -s /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  log "stopped"
  exit 0
fi

# 1. Packages. --no-install-recommends keeps it to the daemons and clients
# (the recommends pull in dozens of plugin -dev packages).
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
  ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  log "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

host="$(uname -n)"
host="${host%%.*}"
cpus="$(nproc)"
# RealMemory in MB, a little under what the host has, so slurmd does not
# drain the node for having less memory than configured.
mem_mb="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)"

# 2. munge: one key, shared by slurmctld and slurmd (same host).
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating /etc/munge/munge.key"
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n | unmunge >/dev/null
fi

# 3. slurm.conf: everything on this host, daemons as root (SlurmUser=root
# avoids a slurm user's permissions on the spool directories).
install -d -m 0755 /etc/slurm /var/log/slurm /var/spool/slurmctld /var/spool/slurmd
cat >/etc/slurm/slurm.conf <<EOF
# Written by scripts/slurm-setup.sh: a single-node test cluster.
ClusterName=autoresearch
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# No accounting: sacct has nothing, squeue/scontrol are the only sources.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue/scontrol for this long.
MinJobAge=300
# Quick kill after a time limit: SIGTERM, then SIGKILL 5 s later.
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF

# 4. Daemons: restart them so that the new configuration is read.
stop_slurm
sleep 0.5
log "starting slurmctld"
/usr/sbin/slurmctld -i
log "starting slurmd"
/usr/sbin/slurmd

up=""
for _ in $(seq 1 60); do
  if scontrol ping 2>/dev/null | grep -q UP && sinfo -h -N -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; then
    up=1
    break
  fi
  sleep 0.5
done
if [ -z "$up" ]; then
  scontrol update nodename="$host" state=resume 2>/dev/null || true
  sleep 1
fi
if ! sinfo -h -N -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; then
  log "the node did not come up:"
  sinfo -N -l >&2 || true
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
fi

# 5. A test job, end to end.
out="$(mktemp)"
id="$(sbatch --parsable --wait --time=1 --output="$out" --wrap='echo slurm-ok' 2>&1)" || {
  log "test job failed: $id"
  cat "$out" >&2
  exit 1
}
if ! grep -q slurm-ok "$out"; then
  log "test job $id ran but wrote no output"
  exit 1
fi
rm -f "$out"
log "single-node SLURM is up: node $host, $cpus CPUs, partition debug"
sinfo
