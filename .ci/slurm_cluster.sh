#!/usr/bin/env bash
# A one-node Slurm cluster on loopback, for tests/test_slurm.py and for trying `bench submit --slurm` by hand.
#
#   .ci/slurm_cluster.sh install   as root: Debian's slurmctld, slurmd, slurm-client and munge (apt-get)
#   .ci/slurm_cluster.sh start     as root: write the config, start munged, slurmctld and slurmd; wait until idle
#   .ci/slurm_cluster.sh stop      as root: stop the daemons this script started; remove their state
#
# The daemons are started by hand (no systemd in containers); everything lives under $SLURM_CI_DIR
# (default /tmp/bench-slurm). No accounting, no mail, no cgroups (proctrack/linuxproc, task/none),
# so it also runs in unprivileged containers. Then: sbatch, srun, squeue as any user.
set -euo pipefail

DIR="${SLURM_CI_DIR:-/tmp/bench-slurm}"
CONF="$DIR/slurm.conf"
HOST="$(hostname -s)"

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "slurm_cluster.sh: $1 needs root" >&2; exit 2; fi
}

install() {
  need_root install
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
     && command -v munged >/dev/null; then
    return 0
  fi
  command -v apt-get >/dev/null || { echo "slurm_cluster.sh: no apt-get: install Slurm and munge by hand" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
  local cpus mem
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat > "$CONF" <<EOF
ClusterName=benchci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
MpiDefault=none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
KillWait=10
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  # Clients (sbatch, srun) find the config through /etc/slurm/slurm.conf: point it at ours.
  mkdir -p /etc/slurm
  if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
    echo "slurm_cluster.sh: /etc/slurm/slurm.conf exists and is not ours; not touching it" >&2
    exit 2
  fi
  ln -sfn "$CONF" /etc/slurm/slurm.conf
}

start_munge() {
  if pgrep -x munged >/dev/null; then return 0; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged
  touch "$DIR/munged.ours"
}

start() {
  need_root start
  for tool in slurmctld slurmd sinfo munged; do
    command -v "$tool" >/dev/null || { echo "slurm_cluster.sh: $tool not installed (run: $0 install)" >&2; exit 2; }
  done
  if [ -s "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    echo "slurm_cluster.sh: already running (config $CONF)"
    return 0
  fi
  write_config
  start_munge
  slurmctld -f "$CONF" -i
  slurmd -f "$CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then
      echo "slurm_cluster.sh: one-node cluster up ($HOST, $(nproc) CPUs; config $CONF)"
      return 0
    fi
    sleep 1
  done
  echo "slurm_cluster.sh: the node did not become idle in 60 s; logs in $DIR/log" >&2
  sinfo -N -l >&2 || true
  exit 1
}

stop_pidfile() {  # PIDFILE: TERM the daemon, then KILL if it lingers
  local pid
  [ -s "$1" ] || return 0
  pid="$(cat "$1")"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  need_root stop
  stop_pidfile "$DIR/slurmd.pid"
  stop_pidfile "$DIR/slurmctld.pid"
  if [ -e "$DIR/munged.ours" ]; then
    stop_pidfile /run/munge/munged.pid
  fi
  if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$CONF" ]; then
    rm -f /etc/slurm/slurm.conf
  fi
  rm -rf "$DIR"
  echo "slurm_cluster.sh: stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
