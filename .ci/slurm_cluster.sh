#!/usr/bin/env bash
# A private one-node Slurm cluster on loopback, for tests/test_slurm.py and for trying `bench submit --slurm`.
#
#   .ci/slurm_cluster.sh install   as root: Debian's slurmctld, slurmd, slurm-client and munge (apt-get)
#   .ci/slurm_cluster.sh start     as root: write a private config, start a private munged, slurmctld and
#                                  slurmd; wait until the node is idle; print `export SLURM_CONF=...`
#   .ci/slurm_cluster.sh stop      as root: stop the daemons this script started; remove their folder
#
# Private: everything -- slurm.conf, munge key and socket, state, spool, logs, pid files -- lives under
# $SLURM_CI_DIR (default /tmp/bench-slurm); its ports are free ones picked at start; its clients (sbatch,
# srun, squeue, as any user) find it through SLURM_CONF=$SLURM_CI_DIR/slurm.conf. It never reads or writes
# /etc/slurm or /etc/munge and never talks to the machine's own munged or slurmctld, so it runs beside a
# machine's own Slurm (a cluster's login node). The daemons are started by hand (no systemd in containers).
# No accounting, no mail, no cgroups (proctrack/linuxproc, task/none), so it also runs in unprivileged
# containers.
set -euo pipefail

DIR="${SLURM_CI_DIR:-/tmp/bench-slurm}"
CONF="$DIR/slurm.conf"
MUNGE="$DIR/munge"
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
  # The packages' own daemons are not used (start runs private ones); their services stay as the system has them.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

free_ports() {  # N: N distinct TCP ports nothing listens on now
  python3 -c "
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for sock in socks:
    sock.bind(('127.0.0.1', 0))
print(' '.join(str(sock.getsockname()[1]) for sock in socks))" "$1"
}

write_config() {
  local cpus mem ctld_port slurmd_port
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  read -r ctld_port slurmd_port <<< "$(free_ports 2)"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat > "$CONF" <<EOF
ClusterName=benchci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
CredType=cred/munge
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
}

start_munge() {  # a munged of our own: its own key, socket, pid, seed and log files under $MUNGE
  mkdir -p "$MUNGE"
  chmod 0700 "$MUNGE"
  dd if=/dev/urandom of="$MUNGE/munge.key" bs=1 count=1024 status=none
  chmod 0400 "$MUNGE/munge.key"
  munged --force --socket="$MUNGE/munge.socket" --key-file="$MUNGE/munge.key" --pid-file="$MUNGE/munged.pid" \
    --seed-file="$MUNGE/munged.seed" --log-file="$MUNGE/munged.log"
}

start() {
  need_root start
  for tool in slurmctld slurmd sinfo munged python3; do
    command -v "$tool" >/dev/null || { echo "slurm_cluster.sh: $tool not installed (run: $0 install)" >&2; exit 2; }
  done
  if [ -s "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    echo "slurm_cluster.sh: already running (config $CONF)"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  write_config
  start_munge
  export SLURM_CONF="$CONF"
  slurmctld -f "$CONF" -i
  slurmd -f "$CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then
      echo "slurm_cluster.sh: private one-node cluster up ($HOST, $(nproc) CPUs; config $CONF)"
      echo "export SLURM_CONF=$CONF"
      return 0
    fi
    sleep 1
  done
  echo "slurm_cluster.sh: the node did not become idle in 60 s; logs in $DIR/log and $MUNGE" >&2
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
  stop_pidfile "$MUNGE/munged.pid"
  rm -rf "$DIR"
  echo "slurm_cluster.sh: stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
