#!/usr/bin/env bash
# bench/journey-vs-peers.sh: a 2-step HTTP user journey, spear against a peer, on nginx.
#
# What it measures
#   The same journey, run by USERS virtual users without think time, each going
#   GET / (172 B) then GET /2.5k (2.5 KB) and starting again until the run ends,
#   by two load generators hitting the same target, one after another:
#     spear       spear run journey.yaml --agents 1 --quiet --out F
#                 (protocol: http with a flow of two http steps, load.users USERS,
#                 all started at once; docs/scenario-format.md "HTTP user journeys")
#     k6          k6 run --vus USERS --duration D journey.js     when k6 is on PATH
#                 (or `apt-get install k6` finds it); two http.get per iteration
#     autocannon  autocannon -c USERS -d D -j --har journey.har ORIGIN   otherwise:
#                 each of its USERS connections rotates through the HAR's two
#                 requests, so it runs the same two-request rotation, one request in
#                 flight per connection, at the same concurrency
#   and prints for each: requests/s (both steps together; journeys/s is half of it),
#   p50 and p99 latency (ms) over every request, and for spear the p50/p99 of each
#   step and its verdict on itself (summary.generator: saturated or ok, and why; the
#   agent's load-loop delay p99 max, ELU and CPU mean/max, RSS max), as
#   bench/http-vs-peers.sh prints it, so a reader sees whether spear or nginx set the
#   figures. Each run's line also carries the 1-minute load average before and after
#   it, each core's busy share and nginx's own CPU.
#   The target is nginx (1 worker, pinned to CPU 0, access_log off, a 172-byte page at
#   / and a 2.5 KB page at /2.5k), from a private config in a temp dir, bound to
#   127.0.0.1 on a free port. Every client is pinned to CPU 1.
#   The peer is closed-model too: k6's VUs and autocannon's connections each wait for
#   a response before sending the next request, as spear's users do. The latencies
#   differ in one way: spear's journey requests go through a pool of keep-alive
#   connections its users share (USERS of them here); a request that waits for a
#   free pooled connection counts that wait apart (summary.queueMs, printed in
#   spear's notes as queueP99), not in its latency.
#
# How to run (from anywhere; installs nginx and time with apt-get if missing, fetches
# autocannon into the npx cache, never into package.json):
#   bench/journey-vs-peers.sh                        # 50 users, 10 s, 1 run of each
#   USERS=200 DURATION=20 RUNS=3 bench/journey-vs-peers.sh
#
# Env knobs (defaults in brackets)
#   USERS [50]             virtual users (spear load.users, k6 --vus, autocannon -c)
#   DURATION [10]          seconds per run
#   RUNS [1]               runs per tool, interleaved (peer, spear, peer, ...); the
#                          table shows medians
#   PEER [auto]            k6 | autocannon | auto (k6 when on PATH or installable with
#                          apt-get, else autocannon)
#   TOOLS ["peer spear"]   which to run (e.g. TOOLS=spear)
#   AUTOCANNON [autocannon@9]  npx package spec for autocannon
#   SERVER_CPU [0], CLIENT_CPU [1]  cores for nginx and for the client
#   IDLE_WAIT [30]         before each run, wait up to this many seconds for the
#                          machine to be idle (<=10% busy); runs started on a busy
#                          machine are marked "machine-busy"
#   KEEP_RAW [0]           1 = keep the temp dir with every raw tool output
#
# Load only ever goes to 127.0.0.1; every run is bounded by `timeout`; Ctrl-C stops
# the run in flight and nginx, and removes the temp dir.
set -euo pipefail

USERS=${USERS:-50}
DURATION=${DURATION:-10}
RUNS=${RUNS:-1}
PEER=${PEER:-auto}
AUTOCANNON=${AUTOCANNON:-autocannon@9}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
IDLE_WAIT=${IDLE_WAIT:-30}
KEEP_RAW=${KEEP_RAW:-0}
read -r -a TOOLS <<<"${TOOLS:-peer spear}"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/peer-bench.sh
source "$REPO/bench/lib/peer-bench.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spear-journey.XXXXXX")
NGINX_PID=''
AUTOCANNON_BIN=''
PORT=''

die() { log "journey-vs-peers: $*"; exit 1; }

for tool in "${TOOLS[@]}"; do
  [[ $tool == peer || $tool == spear ]] || die "unknown tool $tool (peer spear)"
done
[[ $PEER == auto || $PEER == k6 || $PEER == autocannon ]] || die "PEER must be auto, k6 or autocannon, not $PEER"
[[ $USERS =~ ^[1-9][0-9]*$ ]] || die "USERS must be a positive integer"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be whole seconds"

# ---------------------------------------------------------------- cleanup

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup

# k6 when asked or (auto) when on PATH or in the apt sources; else autocannon.
choose_peer() {
  if [[ $PEER == auto ]]; then
    if command -v k6 >/dev/null; then PEER=k6
    elif apt-cache show k6 >/dev/null 2>&1 && apt_install k6 && command -v k6 >/dev/null; then PEER=k6
    else PEER=autocannon; log "k6 is not on PATH nor in the apt sources: the peer is autocannon with a two-request HAR"
    fi
  elif [[ $PEER == k6 ]] && ! command -v k6 >/dev/null; then
    apt_install k6 || die "k6 is not on PATH and apt-get could not install it (PEER=autocannon runs the autocannon peer)"
  fi
}

ensure_tools() {
  local missing=()
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v taskset >/dev/null || missing+=(util-linux)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  command -v node >/dev/null || die "node is required"
  [[ -f $REPO/dist/cli.js ]] || (cd "$REPO" && npm run build >&2)
  local peer_version='-'
  if has_tool peer; then
    choose_peer
    if [[ $PEER == autocannon ]]; then
      # Resolved once in the npx cache, so each run starts it directly.
      AUTOCANNON_BIN=$(npx -y -p "$AUTOCANNON" -c 'command -v autocannon' 2>/dev/null | tail -n 1)
      [[ -x $AUTOCANNON_BIN ]] || die "could not fetch $AUTOCANNON with npx"
      peer_version="autocannon $("$AUTOCANNON_BIN" --version | head -n 1 | cut -d' ' -f2)"
    else
      peer_version=$(k6 version 2>/dev/null | head -n 1)
    fi
  fi
  log "peer: $peer_version; nginx: $("$(nginx_path)" -v 2>&1 | cut -d/ -f2); spear: $(node "$REPO/bin/spear.js" --version); node: $(node -v)"
}

write_nginx_conf() {
  local nofile user_line=''
  nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=65536
  [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
  cat >"$WORK/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
worker_rlimit_nofile $nofile;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  default_type text/html;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  open_file_cache max=16 inactive=60s;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    root $WORK/www;
    index index.html;
  }
}
EOF
}

origin() { echo "http://127.0.0.1:$PORT"; }

start_nginx() {
  PORT=$(free_port)
  write_pages
  write_nginx_conf
  taskset -c "$SERVER_CPU" "$(nginx_path)" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" &
  NGINX_PID=$!
  local size
  for _ in $(seq 50); do
    size=$(node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t.length), () => {})' "$(origin)/2.5k" 2>/dev/null || true)
    [[ -n $size ]] && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$WORK/nginx/logs/error.log")"
    sleep 0.1
  done
  [[ $size == 2560 ]] || die "nginx did not serve $(origin)/2.5k"
  log "nginx pid $NGINX_PID on CPU $SERVER_CPU serving $(origin)/ and /2.5k; clients on CPU $CLIENT_CPU"
}

# The journey, once per tool's format.
write_journeys() {
  cat >"$WORK/journey.yaml" <<EOF
name: journey-vs-peers, $USERS users, GET / then GET /2.5k
target: $(origin)
protocol: http
duration: ${DURATION}s
load: {users: $USERS, connectRate: 100000/s}   # every user at once, as the peers start
agents: 1
flow:
  - http: {name: home, url: /}
  - http: {name: big, url: /2.5k}
EOF
  cat >"$WORK/journey.har" <<EOF
{"log": {"version": "1.2", "creator": {"name": "journey-vs-peers", "version": "1"}, "entries": [
  {"request": {"method": "GET", "url": "$(origin)/", "headers": []}},
  {"request": {"method": "GET", "url": "$(origin)/2.5k", "headers": []}}
]}}
EOF
  cat >"$WORK/journey.js" <<EOF
import http from 'k6/http';
export default function () {
  http.get('$(origin)/', { tags: { name: 'home' } });
  http.get('$(origin)/2.5k', { tags: { name: 'big' } });
}
EOF
}

# ---------------------------------------------------------------- clients
# Each run_<tool> OUTFILE runs the tool once and prints "rps p50_ms p99_ms [notes]".

# shellcheck disable=SC2016  # JS template literals, not shell
run_autocannon() {
  client "$AUTOCANNON_BIN" -c "$USERS" -d "$DURATION" -j --har "$WORK/journey.har" "$(origin)" >"$1" 2>"$1.stderr" || true
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const rps = r.duration > 0 ? r.requests.total / r.duration : r.requests.average;
    const bad = r.errors + r.timeouts + r.non2xx;
    console.log(rps.toFixed(2), r.latency.p50, r.latency.p99, bad ? `errors=${r.errors} timeouts=${r.timeouts} non2xx=${r.non2xx}` : "");
  ' "$1"
}

# shellcheck disable=SC2016
run_k6() {
  client k6 run --quiet --no-color --vus "$USERS" --duration "${DURATION}s" --summary-trend-stats 'p(50),p(99)' \
    --summary-export "$1" "$WORK/journey.js" >"$1.stdout" 2>"$1.stderr" || true
  node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).metrics;
    const failed = m.http_req_failed?.value ?? m.http_req_failed?.rate ?? 0;
    console.log(m.http_reqs.rate.toFixed(2), m.http_req_duration["p(50)"], m.http_req_duration["p(99)"], failed ? `failed=${(failed * 100).toFixed(2)}%` : "");
  ' "$1"
}

run_peer() { "run_$PEER" "$@"; }

# Prints "rps p50 p99 notes..." with spear's verdict on itself and its agent's health
# (as bench/http-vs-peers.sh does) and each step's p50/p99; writes the verdict's
# reason and the agent's line, for people, to RESULT.health.
# shellcheck disable=SC2016
parse_spear() {
  node -e '
    const fs = require("fs");
    const result = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const s = result.summary;
    const notes = [];
    if (s.errors.total > 0) notes.push(`errors=${JSON.stringify(s.errorCodes)} status=${s.errors.status}`);
    for (const [name, step] of Object.entries(s.byRequest ?? {})) notes.push(`${name.replace(/\s+/g, "_")}=${step.requests}req:p50=${step.latencyMs.p50}/p99=${step.latencyMs.p99}`);
    if (s.queueMs !== undefined) notes.push(`queueP99=${s.queueMs.p99}ms`);
    const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : "n/a");
    const g = s.generator;
    notes.push(`generator=${g === undefined ? "not-judged" : g.saturated ? "SATURATED" : "ok"}`);
    const lines = [`generator: ${g === undefined ? "not judged (no summary.generator)" : g.saturated ? "SATURATED" : "ok"}${g?.intervals?.length ? ` (saturated intervals ${g.intervals.join(",")})` : ""}: ${g?.reason ?? ""}`];
    for (const agent of result.agents) {
      const h = agent.health;
      const elus = result.timeline.flatMap((e) => (e.health ?? []).filter((x) => x.agent === agent.id).map((x) => x.elu));
      const eluMean = elus.length ? elus.reduce((a, b) => a + b, 0) / elus.length : NaN;
      const eluMax = elus.length ? Math.max(...elus) : NaN;
      if (h === undefined) { lines.push(`agent ${agent.id} ${agent.status}: no health`); continue; }
      notes.push(`sat=${h.saturatedIntervals}/${h.intervals} loopP99max=${h.loopDelayMs.p99Max.toFixed(1)}ms elu=${pct(eluMean)}/${pct(eluMax)} cpu=${pct(h.cpu.mean)}/${pct(h.cpu.max)} rssMax=${h.rssMbMax.toFixed(0)}MB late=${h.lateMsMax}ms`);
      lines.push(`agent ${agent.id} ${agent.status}${agent.reason ? ` (${agent.reason})` : ""}: ${h.saturatedIntervals} of ${h.intervals} intervals saturated; load-loop delay p99 max ${h.loopDelayMs.p99Max.toFixed(1)} ms (max ${h.loopDelayMs.max.toFixed(0)} ms); ELU mean ${pct(eluMean)} max ${pct(eluMax)}; CPU mean ${pct(h.cpu.mean)} max ${pct(h.cpu.max)}; RSS max ${h.rssMbMax.toFixed(0)} MB; reports late up to ${h.lateMsMax} ms`);
    }
    fs.writeFileSync(`${process.argv[1]}.health`, lines.join("\n") + "\n");
    console.log(s.rps.toFixed(2), s.latencyMs.p50, s.latencyMs.p99, notes.join(" "));
  ' "$1"
}

run_spear() {
  local status=0
  client node "$REPO/bin/spear.js" run "$WORK/journey.yaml" --quiet --out "$1" >"$1.stdout" 2>"$1.stderr" || status=$?
  # 99: a threshold failed (none are set here); anything else is worth a look.
  ((status == 0 || status == 99)) || log "  spear exited $status: $(tail -n 3 "$1.stderr" | tr '\n' ' ')"
  [[ -s $1 ]] || return 1
  parse_spear "$1"
}

# ---------------------------------------------------------------- runs and report

nginx_jiffies() {
  local pid total=0
  for pid in "$NGINX_PID" $(pgrep -P "$NGINX_PID"); do
    total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
cpu_snapshot() { echo "$(core_jiffies "$SERVER_CPU") $(core_jiffies "$CLIENT_CPU") $(nginx_jiffies) $(date +%s%N)"; }
cpu_note() {
  local now hz
  now=$(cpu_snapshot)
  hz=$(getconf CLK_TCK)
  echo "$1 $now" | awk -v hz="$hz" '{ printf "server_core=%.0f%% client_core=%.0f%% nginx=%.0f%%", 100 * ($7 - $1) / ($8 - $2), 100 * ($9 - $3) / ($10 - $4), 100 * ($11 - $5) / hz / (($12 - $6) / 1e9) }'
}

tool_name() { if [[ $1 == peer ]]; then echo "$PEER"; else echo "$1"; fi; }

# Appends "tool run rps p50 p99 notes..." lines to $WORK/runs.txt.
run_all() {
  local run tool name line note load_before snapshot
  : >"$WORK/runs.txt"
  for run in $(seq "$RUNS"); do
    for tool in "${TOOLS[@]}"; do
      name=$(tool_name "$tool")
      note=''
      wait_for_idle || note=' machine-busy'
      load_before=$(loadavg)
      snapshot=$(cpu_snapshot)
      if "run_$tool" "$WORK/$name-r$run.out" >"$WORK/line"; then
        line="$(<"$WORK/line") load=$load_before>$(loadavg) $(cpu_note "$snapshot")$note"
        log "$(printf 'run %s/%s  %-10s %s' "$run" "$RUNS" "$name" "$line")"
        [[ $tool == spear && -f $WORK/$name-r$run.out.health ]] && sed 's/^/    /' "$WORK/$name-r$run.out.health" >&2
        echo "$name $run $line" >>"$WORK/runs.txt"
      else
        log "run $run/$RUNS  $name FAILED (see $name-r$run.out*; KEEP_RAW=1 keeps them)"
      fi
    done
  done
}

med() { awk -v t="$1" -v f="$2" '$1 == t { print $f }' "$WORK/runs.txt" | median; }
saturated_runs() {
  awk '$1 == "spear" { n++; if ($0 ~ /generator=SATURATED/) s++ } END { printf "%d of %d runs saturated", s, n }' "$WORK/runs.txt"
}

print_report() {
  local tool name
  echo
  echo "journey-vs-peers: $USERS users, GET / then GET /2.5k, no think time, on nginx $(origin) (CPU $SERVER_CPU), clients on CPU $CLIENT_CPU, ${DURATION}s x $RUNS run(s), medians"
  echo
  printf '%-11s %12s %12s %10s %10s  %s\n' tool "requests/s" "journeys/s" "p50 ms" "p99 ms" "spear verdict"
  for tool in "${TOOLS[@]}"; do
    name=$(tool_name "$tool")
    printf '%-11s %12.0f %12.0f %10.2f %10.2f  %s\n' "$name" "$(med "$name" 3)" "$(awk -v r="$(med "$name" 3)" 'BEGIN { print r / 2 }')" \
      "$(med "$name" 4)" "$(med "$name" 5)" "$([[ $tool == spear ]] && saturated_runs)"
  done
  if has_tool peer && has_tool spear; then
    echo
    echo "spear/$PEER: rps $(ratio "$(med spear 3)" "$(med "$PEER" 3)"), p50 $(ratio "$(med spear 4)" "$(med "$PEER" 4)"), p99 $(ratio "$(med spear 5)" "$(med "$PEER" 5)")"
  fi
  echo
  echo "per-run figures (tool run rps p50_ms p99_ms notes; load=1-minute load average before>after):"
  sed 's/^/  /' "$WORK/runs.txt"
  if has_tool spear; then
    echo
    echo "spear self-health per run (summary.generator; agents[].health; ELU from timeline[].health)"
    local run
    for run in $(seq "$RUNS"); do
      [[ -f $WORK/spear-r$run.out.health ]] || continue
      echo "  run $run:"
      sed 's/^/    /' "$WORK/spear-r$run.out.health"
    done
  fi
}

main() {
  ensure_tools
  start_nginx
  write_journeys
  run_all
  print_report
}

main "$@"
