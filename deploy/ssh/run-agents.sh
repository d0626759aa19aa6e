#!/usr/bin/env bash
# Starts spear agents on hosts you can ssh to, and prints the --agent flags
# for `spear run`. Copies nothing: spear must already be installed on every
# host (npm install -g, or a checkout: pass --spear "node /path/bin/spear.js").
#
#   export SPEAR_TOKEN=$(openssl rand -hex 32)
#   agents=$(deploy/ssh/run-agents.sh -n 2 lg1 ops@lg2=10.0.0.12) || exit
#   spear run scenario.yaml $agents --out result.json
#   deploy/ssh/stop-agents.sh lg1 ops@lg2
#
# The token never appears on a command line (here, in ssh's arguments or on
# the hosts): it travels inside the script that ssh feeds to `bash -s` on
# stdin, and the agents read it from their environment.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run-agents.sh [options] HOST...      (SPEAR_TOKEN must be set)
       run-agents.sh --local [options]      (this machine, no ssh)

  HOST                 [user@]host[=ADDR]: ssh to [user@]host; the coordinator
                       dials ADDR (default: host)
  -n, --per-host N     agent processes per host, or "auto" = one per core (default auto)
  -p, --port PORT      first port; a host's agents listen on PORT .. PORT+N-1 (default 7070)
  -b, --bind ADDR      address the agents listen on (default 0.0.0.0; --local: 127.0.0.1)
  --spear CMD          how to run spear on the hosts (default "spear"),
                       e.g. "node /opt/spear/bin/spear.js"
  --dir DIR            pid and log files on each host (default ~/.spear-agents)
  --local              start the agents here instead of over ssh; the flags
                       printed then name the --bind address
  env SSH              ssh command (default "ssh -o BatchMode=yes")

Prints the --agent flags of every agent that started on stdout (progress goes
to stderr). Exit 0 when all started, 1 when some did not, 2 on bad usage.
EOF
}

per_host=auto port=7070 bind='' spear=spear dir='' local=0
while (($# > 0)); do
  case $1 in
    -n | --per-host) per_host=${2:?}; shift 2 ;;
    -p | --port) port=${2:?}; shift 2 ;;
    -b | --bind) bind=${2:?}; shift 2 ;;
    --spear) spear=${2:?}; shift 2 ;;
    --dir) dir=${2:?}; shift 2 ;;
    --local) local=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-agents.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
if [[ -z ${SPEAR_TOKEN:-} ]]; then
  # shellcheck disable=SC2016 # the $(...) is for the user to run
  echo 'run-agents.sh: set SPEAR_TOKEN first, e.g. export SPEAR_TOKEN=$(openssl rand -hex 32)' >&2
  exit 2
fi
if [[ ! $per_host =~ ^([1-9][0-9]*|auto)$ || ! $port =~ ^[1-9][0-9]*$ ]] || ((port > 65535)); then
  echo "run-agents.sh: -n takes a count or auto, -p a port from 1 to 65535" >&2
  exit 2
fi
if ((local)); then
  (($# == 0)) || { echo "run-agents.sh: --local takes no HOST" >&2; exit 2; }
  bind=${bind:-127.0.0.1}
  set -- "local=$bind"
else
  (($# > 0)) || { usage >&2; exit 2; }
  bind=${bind:-0.0.0.0}
fi
read -ra ssh_cmd <<<"${SSH:-ssh -o BatchMode=yes}"

# The script each host runs (bash -s). Values go first, quoted with %q; the
# body is literal. It prints "READY PORT" on stdout per agent listening.
host_script() {
  printf 'export SPEAR_TOKEN=%q\n' "$SPEAR_TOKEN"
  printf 'spear=%q bind=%q first=%q per_host=%q dir=%q\n' "$spear" "$bind" "$port" "$per_host" "$dir"
  cat <<'EOF'
set -u
me=$(hostname)
dir=${dir:-$HOME/.spear-agents}
umask 077
mkdir -p "$dir" || exit 1
read -ra cmd <<<"$spear"
if ! version=$("${cmd[@]}" --version 2>&1); then
  echo "$me: cannot run '$spear' ($version): install spear (npm install -g) or pass --spear 'node /path/to/spear/bin/spear.js'" >&2
  exit 1
fi
echo "$me: spear $version, node $(node --version 2>/dev/null || echo '?')" >&2
if [[ $per_host == auto ]]; then per_host=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); fi

is_agent() { # PID: alive, and a spear agent (pid files can outlive a reboot)
  ps -p "$1" -o args= 2>/dev/null | grep -q -- 'agent --listen'
}

lines_before=() # indexed by port (a sparse array: bash 3 has no -A)
for ((i = 0; i < per_host; i++)); do
  port=$((first + i))
  pidfile=$dir/agent-$port.pid log=$dir/agent-$port.log
  if [[ -s $pidfile ]] && is_agent "$(<"$pidfile")"; then
    echo "$me: agent on port $port already running (pid $(<"$pidfile"))" >&2
    echo "READY $port"
    continue
  fi
  touch "$log"
  lines_before[port]=$(wc -l <"$log")
  printf '== %s: spear agent --listen %s:%s\n' "$(date -u +%FT%TZ)" "$bind" "$port" >>"$log"
  # setsid: its own session, so the ssh session ending sends it no SIGHUP;
  # the pid file is written by the process that then becomes the agent.
  # shellcheck disable=SC2016 # $$, $0 and $@ belong to the inner bash
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "${cmd[@]}" agent --listen "$bind:$port" </dev/null >>"$log" 2>&1 &
done

status=0
((${#lines_before[@]} > 0)) || exit 0
for port in "${!lines_before[@]}"; do
  pidfile=$dir/agent-$port.pid log=$dir/agent-$port.log
  for ((tries = 0; tries < 100; tries++)); do
    if tail -n +"$((lines_before[port] + 1))" "$log" | grep -q 'spear agent listening on'; then
      echo "READY $port"
      continue 2
    fi
    if ((tries > 5)) && ! { [[ -s $pidfile ]] && kill -0 "$(<"$pidfile")" 2>/dev/null; }; then break; fi
    sleep 0.1
  done
  echo "$me: agent on port $port did not start; $log says:" >&2
  tail -n +"$((lines_before[port] + 2))" "$log" | head -n 5 | sed 's/^/    /' >&2
  if [[ -s $pidfile ]] && is_agent "$(<"$pidfile")"; then kill -TERM "$(<"$pidfile")"; fi
  rm -f "$pidfile"
  status=1
done
exit "$status"
EOF
}

flags=() failed=0
for host in "$@"; do
  dest=${host%%=*}
  if [[ $host == *=* ]]; then addr=${host#*=}; else addr=${dest#*@}; fi
  [[ $addr == *:* && $addr != \[* ]] && addr="[$addr]" # IPv6
  if ((local)); then
    out=$(host_script | bash -s) || failed=1
  else
    out=$(host_script | "${ssh_cmd[@]}" "$dest" bash -s) || failed=1
  fi
  while read -r word ready_port; do
    [[ $word == READY ]] && flags+=(--agent "$addr:$ready_port")
  done <<<"$out"
done
((${#flags[@]} > 0)) && echo "${flags[*]}"
echo "run-agents.sh: $((${#flags[@]} / 2)) agents listening" >&2
exit "$failed"
