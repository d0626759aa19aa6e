#!/usr/bin/env bash
# bench/http-vs-peers.sh: spear against wrk and autocannon on one static nginx page.
#
# What it measures
#   Closed-model HTTP/1.1 keep-alive throughput (requests/s) and p99 latency (ms)
#   of three load generators hitting the same target, one after another:
#     wrk        wrk -t1 -c N -d D --latency URL         (C, the ceiling)
#     autocannon autocannon -c N -d D -j URL             (Node, the usual peer)
#     spear      spear run URL -c N -d D --agents 1 --quiet --out F
#   plus spear's peak resident memory: the kernel's high-water mark (VmHWM) of the
#   agent process (the forked child that does the load), sampled every 0.5 s, and
#   /usr/bin/time -v's "Maximum resident set size" as a cross-check; and spear's
#   verdict on itself after each of its runs (summary.generator: saturated or ok,
#   and why; agents[].health: load-loop delay p99 max, CPU mean/max, RSS max; the
#   load loop's utilization (ELU) mean/max from timeline[].health), so a reader
#   sees whether spear or nginx was the limit. Each run's line also carries the
#   1-minute load average before and after it (load=BEFORE>AFTER).
#   The target is nginx (1 worker, pinned to CPU 0, access_log off, a 172-byte page
#   at / and a 2.5 KB page at /2.5k) with a private config in a temp dir, bound to
#   127.0.0.1 on a free port. Every client is pinned to CPU 1, so client and server
#   each get one core and the client's efficiency decides the figures.
#   With URL set (a full URL on this machine, e.g. http://127.0.0.1:8080/2.5k), no
#   nginx is started: the three tools load that URL, path and query included, and
#   the server listening on its port is left as it is (not pinned; its CPU share is
#   reported when its process can be seen).
#   For each connection count each tool runs RUNS times (interleaved: wrk,
#   autocannon, spear, wrk, ...); the table shows the median rps and the median p99.
#
# How to run (from anywhere; installs wrk, nginx and time with apt-get if missing,
# fetches autocannon into the npx cache, never into package.json):
#   bench/http-vs-peers.sh
#   RUNS=1 DURATION=5 CONNECTIONS="100" bench/http-vs-peers.sh     # quick look
#   URL=http://127.0.0.1:8080/2.5k bench/http-vs-peers.sh          # a server of your own
#
# Env knobs (defaults in brackets)
#   RUNS [3]               runs per tool and connection count
#   TOOLS ["wrk autocannon spear"]  which tools to run (e.g. TOOLS=spear)
#   SPEAR_RATE [unset]     e.g. 40000/s: spear runs the open model at that arrival
#                          rate (--rate) over the same connections, instead of the
#                          closed model; the peers still run closed
#   DURATION [10]          seconds per run
#   CONNECTIONS ["100 1000"] connection counts, space separated
#   URL_PATH [/]           nginx's page to load: / (172 B) or /2.5k (2.5 KB)
#   URL [unset]            a full URL on this machine (127.0.0.0/8, localhost or
#                          [::1]) to load instead of nginx's page: every tool hits
#                          that URL, path and query included (URL_PATH must then be
#                          unset)
#   AUTOCANNON [autocannon@9]  npx package spec for autocannon
#   SERVER_CPU [0], CLIENT_CPU [1]  cores for nginx and for the client
#   KEEP_RAW [0]           1 = keep the temp dir with every raw tool output
#   IDLE_WAIT [30]         before each run, wait up to this many seconds for the
#                          machine to be idle (<=10% busy); runs started on a busy
#                          machine are marked "machine-busy"
#
# With the defaults it takes about 2 x 3 x 3 x ~12 s, a little under 4 minutes.
# Load only ever goes to loopback; every run is bounded by `timeout`; Ctrl-C stops
# the run in flight and nginx, and removes the temp dir.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-"100 1000"}
URL_PATH_SET=${URL_PATH:+1}
URL_PATH=${URL_PATH:-/}
URL=${URL:-}
AUTOCANNON=${AUTOCANNON:-autocannon@9}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
KEEP_RAW=${KEEP_RAW:-0}
IDLE_WAIT=${IDLE_WAIT:-30}
SPEAR_RATE=${SPEAR_RATE:-}

read -r -a TOOLS <<<"${TOOLS:-wrk autocannon spear}"
for tool in "${TOOLS[@]}"; do
  [[ $tool == wrk || $tool == autocannon || $tool == spear ]] || { printf 'http-vs-peers: unknown tool %s (wrk autocannon spear)\n' "$tool" >&2; exit 1; }
done
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/peer-bench.sh
source "$REPO/bench/lib/peer-bench.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spear-bench.XXXXXX")
NGINX_PID=''
SERVER_PID=''   # with URL: the process listening on its port, when it can be seen
AUTOCANNON_BIN=''
PORT=''

die() { log "http-vs-peers: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup

ensure_tools() {
  local missing=()
  if has_tool wrk; then command -v wrk >/dev/null || missing+=(wrk); fi
  if [[ -z $URL ]]; then command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx); fi
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v taskset >/dev/null || missing+=(util-linux)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  command -v node >/dev/null || die "node is required"
  [[ -f $REPO/dist/cli.js ]] || (cd "$REPO" && npm run build >&2)
  # Resolve autocannon's bin inside the npx cache once, so each run starts it
  # directly (no npm process sitting beside it on the client core).
  local ac_version='-' wrk_version='-'
  if has_tool autocannon; then
    AUTOCANNON_BIN=$(npx -y -p "$AUTOCANNON" -c 'command -v autocannon' 2>/dev/null | tail -n 1)
    [[ -x $AUTOCANNON_BIN ]] || die "could not fetch $AUTOCANNON with npx"
    ac_version=$("$AUTOCANNON_BIN" --version | head -n 1 | cut -d' ' -f2)
  fi
  if has_tool wrk; then wrk_version=$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2 || true); fi
  local nginx_version=-
  [[ -n $URL ]] || nginx_version=$("$(nginx_path)" -v 2>&1 | cut -d/ -f2)
  log "wrk: $wrk_version; nginx: $nginx_version;" \
    "autocannon: $ac_version; spear: $(node "$REPO/bin/spear.js" --version); node: $(node -v)"
}

write_nginx_conf() {
  local nofile user_line=''
  nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=65536
  # Workers of a root master would drop to "nobody"; keep them as the current user.
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

start_nginx() {
  PORT=$(free_port)
  write_pages
  write_nginx_conf
  taskset -c "$SERVER_CPU" "$(nginx_path)" \
    -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" &
  NGINX_PID=$!
  local size
  for _ in $(seq 50); do
    size=$(node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t.length), () => {})' "$(target_url)" 2>/dev/null || true)
    [[ -n $size ]] && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$WORK/nginx/logs/error.log")"
    sleep 0.1
  done
  [[ -n $size ]] || die "nginx did not answer on $(target_url)"
  log "nginx pid $NGINX_PID on CPU $SERVER_CPU serving $(target_url) ($size bytes); clients on CPU $CLIENT_CPU"
}

target_url() { if [[ -n $URL ]]; then echo "$URL"; else echo "http://127.0.0.1:$PORT$URL_PATH"; fi; }

# URL must be an http(s) URL on this machine: the benchmark's load stays on loopback.
# Prints "PORT" of the URL (its scheme's default when it names none).
# shellcheck disable=SC2016
check_url() {
  node -e '
    let url;
    try { url = new URL(process.argv[1]); } catch { console.error(`not a URL: ${process.argv[1]}`); process.exit(1); }
    if (url.protocol !== "http:" && url.protocol !== "https:") { console.error(`expected http:// or https://, got ${url.protocol}`); process.exit(1); }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!(host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host))) { console.error(`${host} is not this machine (127.0.0.0/8, localhost or [::1]): load only goes to loopback`); process.exit(1); }
    console.log(url.port || (url.protocol === "https:" ? 443 : 80));
  ' "$1"
}

# With URL: checks that something answers it and finds the process listening on
# its port (ss -ltnp; empty when another user's process hides it).
use_url() {
  local status
  PORT=$(check_url "$URL") || die "URL: see above"
  status=$(node -e 'fetch(process.argv[1]).then(r => r.arrayBuffer().then(b => console.log(r.status, b.byteLength)), (e) => console.log("error", e.cause?.code ?? e.message))' "$URL" 2>/dev/null || true)
  [[ $status == 2* || $status == 3* ]] || die "$URL does not answer with 2xx/3xx: ${status:-no answer}"
  SERVER_PID=$(ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
  log "target $URL answers ${status%% *} (${status##* } bytes); server pid ${SERVER_PID:-unknown} (not pinned by this script); clients on CPU $CLIENT_CPU"
}

# ---------------------------------------------------------------- clients
# Each run_<tool> CONNS OUTFILE runs the tool once and prints "rps p99_ms [errors]".

# wrk prints e.g. "     99%   12.34ms" and "Requests/sec:  45678.90".
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v * 1;
      if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v
    }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Socket errors|Non-2xx/ { sub(/^ +/, ""); errors = errors $0 "; " }
    END { if (rps == "" || p99 == "") exit 1; printf "%s %s %s\n", rps, p99, errors }
  ' "$1"
}

run_wrk() {
  client wrk -t1 -c "$1" -d "${DURATION}s" --latency "$(target_url)" >"$2" 2>&1 || true
  parse_wrk "$2"
}

# shellcheck disable=SC2016  # JS template literals, not shell
parse_autocannon() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const rps = r.duration > 0 ? r.requests.total / r.duration : r.requests.average;
    const bad = r.errors + r.timeouts + r.non2xx;
    console.log(rps.toFixed(2), r.latency.p99, bad ? `errors=${r.errors} timeouts=${r.timeouts} non2xx=${r.non2xx}` : "");
  ' "$1"
}

run_autocannon() {
  client "$AUTOCANNON_BIN" -c "$1" -d "$DURATION" -j "$(target_url)" >"$2" 2>"$2.stderr" || true
  parse_autocannon "$2"
}

# Prints "rps p99 notes..." where the notes carry spear's verdict on itself
# (generator=ok|SATURATED, sat=saturated/intervals) and the agent's health
# (loopP99max, elu=mean/max, cpu=mean/max, rssMax, late); writes the verdict's
# reason and one line per agent, for people, to RESULT.health.
# shellcheck disable=SC2016  # JS template literals, not shell
parse_spear() {
  node -e '
    const fs = require("fs");
    const result = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const s = result.summary;
    const notes = [];
    if (s.errors.total > 0) notes.push(`errors=${JSON.stringify(s.errorCodes)} status=${s.errors.status}`);
    if (s.maxConnections !== Number(process.argv[2])) notes.push(`maxConnections=${s.maxConnections}`);
    if (s.arrivals !== undefined) notes.push(`scheduled=${s.arrivals.scheduled} dropped=${s.arrivals.dropped}`);
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
      if (result.agents.length === 1) notes.push(`sat=${h.saturatedIntervals}/${h.intervals} loopP99max=${h.loopDelayMs.p99Max.toFixed(1)}ms elu=${pct(eluMean)}/${pct(eluMax)} cpu=${pct(h.cpu.mean)}/${pct(h.cpu.max)} rssMax=${h.rssMbMax.toFixed(0)}MB late=${h.lateMsMax}ms`);
      lines.push(`agent ${agent.id} ${agent.status}${agent.reason ? ` (${agent.reason})` : ""}: ${h.saturatedIntervals} of ${h.intervals} intervals saturated; load-loop delay p99 max ${h.loopDelayMs.p99Max.toFixed(1)} ms (max ${h.loopDelayMs.max.toFixed(0)} ms); ELU mean ${pct(eluMean)} max ${pct(eluMax)}; CPU mean ${pct(h.cpu.mean)} max ${pct(h.cpu.max)}; RSS max ${h.rssMbMax.toFixed(0)} MB; reports late up to ${h.lateMsMax} ms`);
    }
    fs.writeFileSync(`${process.argv[1]}.health`, lines.join("\n") + "\n");
    console.log(s.rps.toFixed(2), s.latencyMs.p99, notes.join(" "));
  ' "$1" "$2"
}

# Peak RSS of spear's agent (the forked child running dist/agents/agent-main.js):
# every 0.5 s, read its VmHWM, the kernel's own high-water mark, so no peak between
# samples is missed; the largest is kept in OUTFILE, in kB.
descendants() { local pid; for pid in $(pgrep -P "$1"); do echo "$pid"; descendants "$pid"; done; }

sample_agent_rss() {
  local root=$1 out=$2 peak=0 pid hwm
  echo 0 >"$out"
  while kill -0 "$root" 2>/dev/null; do
    for pid in $(descendants "$root"); do
      grep -qs agent-main "/proc/$pid/cmdline" || continue
      hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      if [[ -n $hwm ]] && ((hwm > peak)); then peak=$hwm; echo "$peak" >"$out"; fi
    done
    sleep 0.5
  done
}

run_spear() {
  local conns=$1 out=$2 status=0 client_pid sampler_pid parsed time_kb rate=()
  [[ -z $SPEAR_RATE ]] || rate=(--rate "$SPEAR_RATE")
  # timeout -> /usr/bin/time -> spear coordinator (taskset execs node) -> agent
  client_start /usr/bin/time -v -o "$out.time" \
    node "$REPO/bin/spear.js" run "$(target_url)" -c "$conns" "${rate[@]}" -d "${DURATION}s" \
    --agents 1 --quiet --out "$out" >"$out.stdout" 2>"$out.stderr"
  client_pid=$(cat "$WORK/client.pid")
  sample_agent_rss "$client_pid" "$out.rss" >/dev/null &
  sampler_pid=$!
  client_wait || status=$?
  wait "$sampler_pid" || true
  ((status == 0)) || log "  spear exited $status: $(tail -n 3 "$out.stderr" | tr '\n' ' ')"
  [[ -s $out ]] || return 1
  parsed=$(parse_spear "$out" "$conns")
  time_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out.time")
  echo "$parsed rss_agent_kb=$(cat "$out.rss") rss_time_kb=$time_kb"
}

# ---------------------------------------------------------------- runs and report

# utime+stime jiffies of the server: nginx (master and workers), or with URL the
# process listening on its port and its children (0 when unknown)
server_jiffies() {
  local root=${NGINX_PID:-$SERVER_PID} pid total=0
  [[ -n $root ]] || { echo 0; return; }
  for pid in "$root" $(pgrep -P "$root"); do
    total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# Snapshot before a run, then "server_core=NN% client_core=NN% nginx=NN%" after it:
# each core's busy share (softirq included) and nginx's CPU over the run. A client
# core at 100% with spear's own CPU far lower means someone else (or the kernel's
# loopback work) had the core; nginx near 100% means nginx was the limit.
cpu_snapshot() { echo "$(core_jiffies "$SERVER_CPU") $(core_jiffies "$CLIENT_CPU") $(server_jiffies) $(date +%s%N)"; }
# With URL the server is not pinned: server_core is then just core SERVER_CPU, and
# its CPU is "server=" (n/a when its process could not be seen).
cpu_note() {
  local now hz name=nginx
  now=$(cpu_snapshot)
  hz=$(getconf CLK_TCK)
  [[ -z $URL ]] || name=server
  echo "$1 $now" | awk -v hz="$hz" -v name="$name" -v known="${NGINX_PID:-$SERVER_PID}" '{ printf "server_core=%.0f%% client_core=%.0f%% ", 100 * ($7 - $1) / ($8 - $2), 100 * ($9 - $3) / ($10 - $4)
    if (known == "") printf "%s=n/a", name; else printf "%s=%.0f%%", name, 100 * ($11 - $5) / hz / (($12 - $6) / 1e9) }'
}

# Appends "conns tool run rps p99 notes..." lines to $WORK/runs.txt.
run_all() {
  local conns run tool line note load_before snapshot
  : >"$WORK/runs.txt"
  for conns in $CONNECTIONS; do
    for run in $(seq "$RUNS"); do
      for tool in "${TOOLS[@]}"; do
        note=''
        wait_for_idle || note=' machine-busy'
        load_before=$(loadavg)
        snapshot=$(cpu_snapshot)
        # not in $(...): the main shell must wait itself so that Ctrl-C/TERM act at once
        if "run_$tool" "$conns" "$WORK/$tool-c$conns-r$run.out" >"$WORK/line"; then
          line="$(<"$WORK/line") load=$load_before>$(loadavg) $(cpu_note "$snapshot")$note"
          log "$(printf 'c=%-5s run %s/%s  %-10s %s' "$conns" "$run" "$RUNS" "$tool" "$line")"
          [[ $tool == spear && -f $WORK/$tool-c$conns-r$run.out.health ]] && sed 's/^/    /' "$WORK/$tool-c$conns-r$run.out.health" >&2
          echo "$conns $tool $run $line" >>"$WORK/runs.txt"
        else
          log "c=$conns run $run/$RUNS  $tool FAILED (see ${tool}-c$conns-r$run.out*; KEEP_RAW=1 keeps them)"
        fi
      done
    done
  done
}

# field N of the runs of TOOL at CONNS, median over runs
med() { awk -v c="$1" -v t="$2" -v f="$3" '$1 == c && $2 == t { print $f }' "$WORK/runs.txt" | median; }
# median of a key=value note (kB) of spear's runs, in MB
med_kv() {
  awk -v c="$1" -v k="$2" '$1 == c && $2 == "spear" { for (i = 6; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$WORK/runs.txt" |
    median | awk '{ printf "%.1f", $1 / 1024 }'
}
# "1 of 3 runs saturated" for spear's runs at CONNS
saturated_runs() {
  awk -v c="$1" '$1 == c && $2 == "spear" { n++; if ($0 ~ /generator=SATURATED/) s++ } END { printf "%d of %d runs saturated", s, n }' "$WORK/runs.txt"
}
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "n/a") print "  "; else if ((op == ">=" && v + 0 >= t) || (op == "<=" && v + 0 <= t)) print "ok"; else print "MISS" }'; }

print_report() {
  local conns tool
  echo
  local server="nginx (CPU $SERVER_CPU)"
  [[ -z $URL ]] || server="your server (pid ${SERVER_PID:-unknown}, not pinned)"
  echo "http-vs-peers: $(target_url) on $server, clients on CPU $CLIENT_CPU, ${DURATION}s x $RUNS runs, medians${SPEAR_RATE:+; spear in the open model at $SPEAR_RATE}"
  echo
  printf '%-6s %-11s %12s %10s %14s %14s  %s\n' conns tool rps "p99 ms" "agent RSS MB" "time -v MB" "spear verdict"
  for conns in $CONNECTIONS; do
    for tool in "${TOOLS[@]}"; do
      if [[ $tool == spear ]]; then
        printf '%-6s %-11s %12.0f %10.2f %14s %14s  %s\n' "$conns" "$tool" "$(med "$conns" "$tool" 4)" "$(med "$conns" "$tool" 5)" \
          "$(med_kv "$conns" rss_agent_kb)" "$(med_kv "$conns" rss_time_kb)" "$(saturated_runs "$conns")"
      else
        printf '%-6s %-11s %12.0f %10.2f\n' "$conns" "$tool" "$(med "$conns" "$tool" 4)" "$(med "$conns" "$tool" 5)"
      fi
    done
  done
  echo
  echo "ratios (target in brackets; ok / MISS)"
  printf '%-6s %-22s %-26s %-22s %-18s %-18s\n' conns "spear/wrk rps [>=0.6]" "spear/autocannon rps" "spear/wrk p99 [<=2]" "spear/ac p99" "RSS MB [<=150]"
  for conns in $CONNECTIONS; do
    local rw ra pw pa rss ac_target=''
    rw=$(ratio "$(med "$conns" spear 4)" "$(med "$conns" wrk 4)")
    ra=$(ratio "$(med "$conns" spear 4)" "$(med "$conns" autocannon 4)")
    pw=$(ratio "$(med "$conns" spear 5)" "$(med "$conns" wrk 5)")
    pa=$(ratio "$(med "$conns" spear 5)" "$(med "$conns" autocannon 5)")
    rss=$(med_kv "$conns" rss_agent_kb)
    [[ $conns == 1000 ]] && ac_target="[>=1.4] $(verdict "$ra" '>=' 1.4)"
    printf '%-6s %-22s %-26s %-22s %-18s %-18s\n' "$conns" "$rw $(verdict "$rw" '>=' 0.6)" "$ra $ac_target" \
      "$pw $(verdict "$pw" '<=' 2)" "$pa" "$rss $(verdict "$rss" '<=' 150)"
  done
  echo
  echo "per-run figures (conns tool run rps p99_ms notes; load=1-minute load average before>after):"
  sed 's/^/  /' "$WORK/runs.txt"
  print_self_health
}

# spear's verdict on itself for each of its runs: was spear (its agent's load
# loop) or nginx the limit? Saturated means spear's rps is spear's ceiling here.
print_self_health() {
  has_tool spear || return 0
  local conns run tool health
  echo
  echo "spear self-health per run (summary.generator; agents[].health; ELU from timeline[].health)"
  while read -r conns tool run _; do
    [[ $tool == spear ]] || continue
    health="$WORK/spear-c$conns-r$run.out.health"
    [[ -f $health ]] || continue
    echo "  c=$conns run $run: $(awk -v c="$conns" -v r="$run" '$1 == c && $2 == "spear" && $3 == r { for (i = 6; i <= NF; i++) if ($i ~ /^(generator|sat|loopP99max|elu|cpu|rssMax|load|server_core|client_core|nginx|server)=/) printf "%s ", $i }' "$WORK/runs.txt")"
    sed 's/^/    /' "$health"
  done <"$WORK/runs.txt"
}

main() {
  [[ $URL_PATH == /* ]] || die "URL_PATH must start with /"
  [[ -z $URL || -z $URL_PATH_SET ]] || die "URL and URL_PATH do not mix: URL names the path itself"
  ensure_tools
  if [[ -n $URL ]]; then use_url; else start_nginx; fi
  run_all
  print_report
}

main "$@"
