#!/usr/bin/env bash
# Offline checks of deploy/: shell syntax (and shellcheck when installed, the
# scripts run on the hosts included), every YAML document parses, the systemd
# unit verifies and the kustomization builds when those tools are here.
# Needs the repo's node_modules (for the yaml package). Run from anywhere:
#   bash deploy/check.sh
set -euo pipefail
deploy=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$deploy")
failed=0
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; failed=1; }

step "bash -n"
for script in "$deploy"/ssh/*.sh "$deploy"/check.sh; do
  bash -n "$script" || fail "$script"
done

# The part of each ssh script that runs on the hosts is a quoted here-document:
# pull it out (the second one; the first is the usage text) to check it too.
host_part() {
  echo '#!/usr/bin/env bash'
  echo 'export spear=spear bind=0.0.0.0 first=7070 per_host=1 dir=""'
  awk "/^  cat <<'EOF'\$/ { n++; if (n == 2) { on = 1; next } } /^EOF\$/ { on = 0 } on" "$1"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for script in "$deploy"/ssh/*.sh; do
  host_part "$script" >"$tmp/$(basename "$script" .sh)-host.sh"
  bash -n "$tmp/$(basename "$script" .sh)-host.sh" || fail "host part of $script"
done
if command -v shellcheck >/dev/null; then
  step "shellcheck"
  shellcheck "$deploy"/ssh/*.sh "$deploy"/check.sh "$tmp"/*-host.sh || fail shellcheck
else
  echo "(shellcheck not installed: skipped)"
fi

step "YAML documents parse"
# shellcheck disable=SC2016 # JavaScript, not shell
(cd "$repo" && node --input-type=module -e '
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
let bad = 0;
for (const file of process.argv.slice(1)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) for (const error of [...doc.errors, ...doc.warnings]) { bad++; console.log(`${file}: ${error.message}`); }
  const kinds = docs.map((doc) => doc.toJS()?.kind ?? "(empty)");
  console.log(`${file.replace(/.*\/deploy\//, "deploy/")}: ${kinds.join(", ")}`);
}
process.exit(bad === 0 ? 0 : 1);
' "$deploy"/kubernetes/*.yaml) || fail "YAML"

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify"
  # The binary path is the installer's choice: verify against a stand-in.
  mkdir -p "$tmp/unit"
  printf '#!/bin/sh\n' >"$tmp/spear" && chmod +x "$tmp/spear"
  sed -e "s|^ExecStart=/usr/local/bin/spear|ExecStart=$tmp/spear|" -e 's|^EnvironmentFile=|EnvironmentFile=-|' \
    "$deploy/systemd/spear-agent@.service" >"$tmp/unit/spear-agent@7070.service"
  systemd-analyze verify "$tmp/unit/spear-agent@7070.service" || fail "systemd unit"
fi

if command -v kubectl >/dev/null; then
  step "kubectl kustomize (offline)"
  kubectl kustomize "$deploy/kubernetes" >/dev/null || fail kustomize
fi

if ((failed)); then echo "deploy/check.sh: FAILED"; exit 1; fi
echo "deploy/check.sh: all checks passed"
