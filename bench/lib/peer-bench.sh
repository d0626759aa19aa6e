# bench/lib/peer-bench.sh: helpers the peer benches share (sourced by
# bench/http-vs-peers.sh and bench/journey-vs-peers.sh). They read the
# caller's globals: WORK, IDLE_WAIT, and the pid lists cleanup() stops.

apt_install() {
  log "installing $* with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

cleanup() {
  local client_pid
  client_pid=$(cat "$WORK/client.pid" 2>/dev/null || true)
  if [[ -n $client_pid ]] && kill -TERM "$client_pid" 2>/dev/null; then
    log "stopping the client in flight (pid $client_pid)"
    for _ in $(seq 100); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if [[ $KEEP_RAW == 1 ]]; then log "raw outputs kept in $WORK"; else rm -rf "$WORK"; fi
}

# Runs a client on the client core under `timeout` (which signals its whole process
# group, so spear's agent too), in the background with its pid in client.pid so
# that cleanup can stop it on Ctrl-C; `client` also waits for it.
client_start() {
  timeout -k 10 $((DURATION + 60)) taskset -c "$CLIENT_CPU" "$@" &
  echo $! >"$WORK/client.pid"
}

client_wait() {
  local pid status=0
  pid=$(cat "$WORK/client.pid")
  wait "$pid" || status=$?
  rm -f "$WORK/client.pid"
  return "$status"
}

# Busy share (0-100) of all CPUs over one second, from /proc/stat.
cpu_busy_pct() {
  local before after
  before=$(head -n 1 /proc/stat); sleep 1; after=$(head -n 1 /proc/stat)
  echo "$before $after" | awk '{ n = NF / 2; for (i = 2; i <= n; i++) total += $(i + n) - $i
    idle = $(5 + n) - $5 + $(6 + n) - $6; printf "%d\n", (total > 0 ? 100 * (total - idle) / total : 0) }'
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Waits (up to IDLE_WAIT s) for the machine to be idle, so a test suite or build
# running beside the benchmark does not skew a run; returns 1 if it never was.
wait_for_idle() {
  local busy=0
  for _ in $(seq "$IDLE_WAIT"); do
    busy=$(cpu_busy_pct); busy=${busy:-100}
    ((busy <= 10)) && return 0
  done
  log "  machine still ${busy}% busy after ${IDLE_WAIT}s (other processes); this run may read low"
  return 1
}

# A 172-byte page and a 2.5 KB (2560-byte) page, like examples/targets/http-target.js.
write_pages() {
  mkdir -p "$WORK/www"
  printf '<html><head><title>spear</title></head><body><p>%s</p></body></html>\n' "$(printf 'x%.0s' $(seq 105))" >"$WORK/www/index.html"
  printf '<html><body><p>%s</p></body></html>\n' "$(printf 'y%.0s' $(seq 2526))" >"$WORK/www/2.5k"
  [[ $(wc -c <"$WORK/www/index.html") == 172 && $(wc -c <"$WORK/www/2.5k") == 2560 ]] || die "page sizes are off"
}

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

client() { client_start "$@"; client_wait; }

# "busy total" jiffies of one core (cpuN line of /proc/stat; idle and iowait are not busy).
core_jiffies() { awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

has_tool() { [[ " ${TOOLS[*]} " == *" $1 "* ]]; }

loadavg() { cut -d' ' -f1 /proc/loadavg; }

log() { printf '%s\n' "$*" >&2; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

nginx_path() { command -v nginx || echo /usr/sbin/nginx; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "nan" || b == "nan") print "n/a"; else printf "%.2f", a / b }'; }
