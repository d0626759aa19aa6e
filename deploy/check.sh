#!/usr/bin/env bash
# Offline checks of deploy/: shell syntax (and shellcheck when installed, the
# scripts run on the hosts included), every YAML document parses, the dial-in
# manifests agree with each other (replicas, --expect-agents, ports), the
# systemd unit verifies and the kustomizations build when those tools are here.
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
' "$deploy"/kubernetes/*.yaml "$deploy"/kubernetes/dial-in/*.yaml) || fail "YAML"

step "dial-in manifests agree"
# The drift that breaks a dial-in run: agents scaled without --expect-agents
# (the coordinator then waits for agents that never come, or starts without
# some), or agents dialing a name or port the coordinator's Service lacks.
# shellcheck disable=SC2016 # JavaScript, not shell
(cd "$repo" && node --input-type=module -e '
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
const [agentsFile, jobFile] = process.argv.slice(1);
const docs = (file) => parseAllDocuments(readFileSync(file, "utf8")).map((doc) => doc.toJS());
const deployment = docs(agentsFile).find((doc) => doc?.kind === "Deployment");
const [service, job] = ["Service", "Job"].map((kind) => docs(jobFile).find((doc) => doc?.kind === kind));
const problems = [];
const script = deployment?.spec?.template?.spec?.containers?.[0]?.args?.join(" ") ?? "";
const join = /spear agent --join ws:\/\/([a-z0-9.-]+):(\d+)/.exec(script);
const args = job?.spec?.template?.spec?.containers?.[0]?.args ?? [];
const flag = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
if (join === null) problems.push(`${agentsFile}: no "spear agent --join ws://HOST:PORT" in the container script`);
else {
  if (join[1] !== service?.metadata?.name) problems.push(`agents dial ${join[1]}, the coordinator Service is ${service?.metadata?.name}`);
  if (Number(join[2]) !== service?.spec?.ports?.[0]?.port) problems.push(`agents dial port ${join[2]}, the Service listens on ${service?.spec?.ports?.[0]?.port}`);
}
if (args[0] !== "run") problems.push(`${jobFile}: the Job does not run "spear run"`);
if (!/:7070$/.test(flag("listen") ?? "") || service?.spec?.ports?.[0]?.targetPort !== "join") problems.push(`${jobFile}: --listen=${flag("listen")} and the Service target (${service?.spec?.ports?.[0]?.targetPort}) must be the join port 7070`);
if (Number(flag("expect-agents")) !== deployment?.spec?.replicas) problems.push(`--expect-agents=${flag("expect-agents")} in the Job but replicas: ${deployment?.spec?.replicas} in the Deployment`);
if (flag("token-file") === undefined || !script.includes(`--token-file ${flag("token-file")}`)) problems.push("the agents and the coordinator must read the same --token-file");
for (const problem of problems) console.log(problem);
if (problems.length === 0) console.log(`${deployment.spec.replicas} agents join ${join[1]}:${join[2]}; the Job expects ${flag("expect-agents")}`);
process.exit(problems.length === 0 ? 0 : 1);
' "$deploy"/kubernetes/dial-in/agents.yaml "$deploy"/kubernetes/dial-in/coordinator-job.yaml) || fail "dial-in manifests"

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
  kubectl kustomize "$deploy/kubernetes/dial-in" >/dev/null || fail "kustomize dial-in"
fi

if ((failed)); then echo "deploy/check.sh: FAILED"; exit 1; fi
echo "deploy/check.sh: all checks passed"
