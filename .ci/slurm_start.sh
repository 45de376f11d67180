#!/usr/bin/env bash
# .ci/slurm_start.sh (adapted from ../shared/examples/slurm/start_slurm.sh) - install (if needed), configure and start a single-node SLURM
# cluster on localhost: munged + slurmctld + slurmd, no systemd, no cgroups.
# Default: no accounting (no slurmdbd) -> snakemake must poll with squeue.
# WITH_SLURMDBD=1: additionally MariaDB (unix socket only) + slurmdbd, so that
# sacct/sacctmgr work (snakemake plugin's default status command).
# Tested on Debian 12 (bookworm), Slurm 22.05.8, as root.
# Idempotent: re-running it skips what is already installed/running.
# Stop everything with .ci/slurm_stop.sh (kills exactly the PIDs recorded here).
set -euo pipefail

RUN_DIR=${SLURM_CI_RUN_DIR:-/tmp/slurm-ci/run}   # PID files + daemon stdout
PARTITION=${SLURM_CI_PARTITION:-debug}
CLUSTER=${SLURM_CI_CLUSTER:-ci}
WITH_SLURMDBD=${WITH_SLURMDBD:-0}
DB_PASS=${SLURM_CI_DB_PASS:-slurmci}                # only used with WITH_SLURMDBD=1
mkdir -p "$RUN_DIR"

log() { echo "[slurm_start] $*"; }

# is the PID in file $1 alive (not a zombie) and is it the program $2?
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ] \
    && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$2" ]
}

# ---------------------------------------------------------------- 1. install
PKGS=""
for c in slurmctld slurmd sbatch munged; do
  command -v $c >/dev/null || { PKGS="slurmctld slurmd slurm-client munge"; break; }
done
if [ "$WITH_SLURMDBD" = 1 ]; then
  for c in slurmdbd mariadbd; do
    command -v $c >/dev/null || { PKGS="$PKGS slurmdbd mariadb-server"; break; }
  done
fi
if [ -n "$PKGS" ]; then
  log "installing $PKGS"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $PKGS >/dev/null
fi
# On a host where systemd is PID 1 the packages auto-start their units; stop
# them so that our hand-started daemons own the ports/sockets.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl stop slurmd slurmctld slurmdbd mariadb munge 2>/dev/null || true
fi

HOST=$(hostname -s)

# ---------------------------------------------------------------- 2. munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating munge key"
  install -d -o munge -g munge -m 0700 /etc/munge
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile=/etc/munge/munge.key --force
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge

if alive "$RUN_DIR/munged.pid" munged; then
  log "munged already running (pid $(cat "$RUN_DIR/munged.pid"))"
else
  log "starting munged"
  # nohup and setpriv both exec, so $! is munged's own PID
  nohup setpriv --reuid=munge --regid=munge --init-groups \
      /usr/sbin/munged --foreground >"$RUN_DIR/munged.out" 2>&1 &
  echo $! >"$RUN_DIR/munged.pid"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
fi
munge -n | unmunge >/dev/null || { log "munge does not work"; cat "$RUN_DIR/munged.out"; exit 1; }

install -d -o slurm -g slurm -m 0755 /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm

# ---------------------------------------------------------------- 3. slurm.conf
if [ "$WITH_SLURMDBD" = 1 ]; then
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi

# Daemons listen on 0.0.0.0 by default (traffic still only goes to 127.0.0.1).
# NoCtldInAddrAny/NoInAddrAny make them bind to the address the *hostname*
# resolves to (not to NodeAddr), so only use it when that is a loopback address
# (in Docker the hostname usually resolves to the container IP).
if getent ahostsv4 "$HOST" | awk 'NR==1{exit !($1 ~ /^127\./)}'; then
  COMM_PARAMS="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
else
  COMM_PARAMS="# (hostname does not resolve to 127.x: daemons listen on all addresses)"
fi

# hardware line as slurmd sees it (avoids the node going INVALID/DRAIN because
# of a CPU/memory mismatch); drop NodeName=... and the UpTime=... line
NODE_HW=$(slurmd -C | head -n1 | sed -e "s/^NodeName=[^ ]*//")

cat >/etc/slurm/slurm.conf.new <<EOF
# single-node CI cluster written by .ci/slurm_start.sh
ClusterName=${CLUSTER}
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SlurmctldPort=6817
SlurmdPort=6818
${COMM_PARAMS}
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# accounting
${ACCT_LINES}
JobCompType=jobcomp/none
# schedule several jobs side by side on the one node (select/linear would
# give every job the whole node, i.e. run them one after the other)
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
# keep finished jobs visible to squeue/scontrol for 10 min (the snakemake
# slurm plugin needs >= 3*init_seconds_before_status_checks when it polls
# with squeue instead of sacct)
MinJobAge=600
ReturnToService=2
SlurmdTimeout=60
NodeName=${HOST} NodeAddr=127.0.0.1 ${NODE_HW} State=UNKNOWN
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
if ! cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf 2>/dev/null; then
  mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
  CONF_CHANGED=1
else
  rm -f /etc/slurm/slurm.conf.new
  CONF_CHANGED=0
fi
chmod 0644 /etc/slurm/slurm.conf

# ------------------------------------------------- 4. optional: MariaDB + slurmdbd
# (needs slurm.conf already written: sacctmgr reads AccountingStorageType from it)
if [ "$WITH_SLURMDBD" = 1 ]; then
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    log "initialising MariaDB data dir"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$RUN_DIR/mariadb-install.out" 2>&1
  fi
  if alive "$RUN_DIR/mariadbd.pid" mariadbd; then
    log "mariadbd already running (pid $(cat "$RUN_DIR/mariadbd.pid"))"
  else
    log "starting mariadbd (unix socket only, no TCP)"
    nohup /usr/sbin/mariadbd --user=mysql --skip-networking \
        --socket=/run/mysqld/mysqld.sock \
        --innodb-lock-wait-timeout=900 >"$RUN_DIR/mariadbd.out" 2>&1 &
    echo $! >"$RUN_DIR/mariadbd.pid"
  fi
  for _ in $(seq 150); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.2; done
  mariadb-admin ping >/dev/null || { log "mariadbd not up"; tail -n 30 "$RUN_DIR/mariadbd.out"; exit 1; }
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
              CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

  cat >/etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=${DB_PASS}
EOF
  chown slurm:slurm /etc/slurm/slurmdbd.conf
  chmod 0600 /etc/slurm/slurmdbd.conf          # slurmdbd insists on this

  if alive "$RUN_DIR/slurmdbd.pid" slurmdbd; then
    log "slurmdbd already running (pid $(cat "$RUN_DIR/slurmdbd.pid"))"
  else
    log "starting slurmdbd"
    nohup /usr/sbin/slurmdbd -D >"$RUN_DIR/slurmdbd.out" 2>&1 &
    echo $! >"$RUN_DIR/slurmdbd.pid"
  fi
  for _ in $(seq 150); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
  sacctmgr -n list cluster >/dev/null || { log "slurmdbd not up"; tail -n 30 /var/log/slurm/slurmdbd.log; exit 1; }
  sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" \
    || sacctmgr -i add cluster "$CLUSTER" >/dev/null
fi

# ---------------------------------------------------------------- 5. slurm daemons
if alive "$RUN_DIR/slurmctld.pid" slurmctld; then
  log "slurmctld already running (pid $(cat "$RUN_DIR/slurmctld.pid"))"
  if [ "$CONF_CHANGED" = 1 ]; then
    log "slurm.conf changed: run .ci/slurm_stop.sh and start again if plugins changed"
    scontrol reconfigure || true
  fi
else
  log "starting slurmctld"
  # -D: stay in the foreground (we background it ourselves and keep the PID);
  # -i: ignore unreadable/stale state files from an earlier run
  nohup /usr/sbin/slurmctld -D -i >"$RUN_DIR/slurmctld.out" 2>&1 &
  echo $! >"$RUN_DIR/slurmctld.pid"
fi
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
scontrol ping | grep -q UP || { log "slurmctld not responding"; tail -n 30 /var/log/slurm/slurmctld.log; exit 1; }

if alive "$RUN_DIR/slurmd.pid" slurmd; then
  log "slurmd already running (pid $(cat "$RUN_DIR/slurmd.pid"))"
else
  log "starting slurmd"
  nohup /usr/sbin/slurmd -D >"$RUN_DIR/slurmd.out" 2>&1 &
  echo $! >"$RUN_DIR/slurmd.pid"
fi

# wait until the node is usable
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -N -n "$HOST" -o %t 2>/dev/null | head -n1 || true)
  case "$state" in
    idle|mix|alloc) break ;;
    down*|drain*|drng*) scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
sinfo
case "$state" in idle|mix|alloc) ;; *)
  log "node state is '$state', giving up"; tail -n 30 /var/log/slurm/slurmd.log; exit 1 ;;
esac
log "cluster up: cluster '$CLUSTER', partition '$PARTITION', node '$HOST', slurmdbd=$WITH_SLURMDBD"
