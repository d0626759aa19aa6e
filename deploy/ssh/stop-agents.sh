#!/usr/bin/env bash
# Stops the spear agents run-agents.sh started on these hosts: each one by
# the pid in its pid file (SIGTERM: the agent stops any load at once and
# exits 0), after checking that the pid is still a spear agent. Logs stay.
#
#   deploy/ssh/stop-agents.sh lg1 ops@lg2      (or: --local)
set -euo pipefail

usage() {
  cat <<'EOF'
usage: stop-agents.sh [--dir DIR] HOST...      ([user@]host, as given to run-agents.sh)
       stop-agents.sh --local [--dir DIR]
  --dir DIR   where run-agents.sh keeps pid and log files (default ~/.spear-agents)
  env SSH     ssh command (default "ssh -o BatchMode=yes")
Exit 0 when every agent is gone, 1 otherwise.
EOF
}

dir='' local=0
while (($# > 0)); do
  case $1 in
    --dir) dir=${2:?}; shift 2 ;;
    --local) local=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "stop-agents.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
if ((local)); then
  (($# == 0)) || { echo "stop-agents.sh: --local takes no HOST" >&2; exit 2; }
  set -- local
else
  (($# > 0)) || { usage >&2; exit 2; }
fi
read -ra ssh_cmd <<<"${SSH:-ssh -o BatchMode=yes}"

host_script() {
  printf 'dir=%q\n' "$dir"
  cat <<'EOF'
set -u
me=$(hostname)
dir=${dir:-$HOME/.spear-agents}
is_agent() { ps -p "$1" -o args= 2>/dev/null | grep -q -- 'agent --listen'; }
pids=()
for pidfile in "$dir"/agent-*.pid; do
  [[ -e $pidfile ]] || continue
  pid=$(<"$pidfile")
  port=${pidfile##*/agent-} port=${port%.pid}
  if [[ $pid =~ ^[0-9]+$ ]] && is_agent "$pid"; then
    echo "$me: stopping agent on port $port (pid $pid)" >&2
    kill -TERM "$pid"
    pids+=("$pid")
  else
    echo "$me: agent on port $port was not running" >&2
  fi
  rm -f "$pidfile"
done
status=0
for pid in ${pids[@]+"${pids[@]}"}; do
  for ((tries = 0; tries < 100; tries++)); do
    is_agent "$pid" || continue 2
    sleep 0.1
  done
  echo "$me: agent pid $pid still running 10 s after SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  status=1
done
exit "$status"
EOF
}

failed=0
for host in "$@"; do
  dest=${host%%=*}
  if ((local)); then
    host_script | bash -s || failed=1
  else
    host_script | "${ssh_cmd[@]}" "$dest" bash -s || failed=1
  fi
done
exit "$failed"
