#!/usr/bin/env bash
# Checks every file in deploy/ with the checker that exists for it; CI runs this after the tests.
# A checker that is not installed is reported as skipped; .ci/run installs them so nothing is skipped there.
set -euo pipefail
deploy=$(cd "$(dirname "$0")" && pwd)
failed=0
run() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failed=1; fi
}

if command -v systemd-analyze >/dev/null 2>&1; then
  # verify resolves ExecStart and the user; the check runs against the unit file as shipped.
  run "systemd-analyze verify systemd/tta-node.service" systemd-analyze verify "$deploy/systemd/tta-node.service"
  run "systemd-analyze security: exposure of tta-node.service at most 3.0 (threshold 30 of 100)" bash -c \
    "systemd-analyze security --offline=true --threshold=30 '$deploy/systemd/tta-node.service' >/dev/null"
  # A template unit is verified through an instance name, as systemd loads it.
  units=$(mktemp -d)
  cp "$deploy/systemd/tta-dev@.service" "$units/"
  ln -s "tta-dev@.service" "$units/tta-dev@main.service"
  run "systemd-analyze verify systemd/tta-dev@.service (as tta-dev@main)" systemd-analyze verify "$units/tta-dev@main.service"
  run "systemd-analyze security: exposure of tta-dev@main.service at most 3.0" bash -c \
    "systemd-analyze security --offline=true --threshold=30 '$units/tta-dev@main.service' >/dev/null"
  rm -rf "$units"
else
  echo "skipped: systemd-analyze not installed (Debian package systemd)"
fi

if command -v promtool >/dev/null 2>&1; then
  while IFS= read -r config; do
    run "promtool check config ${config#"$deploy"/}" promtool check config "$config"
  done < <(find "$deploy" -name 'prometheus*.yml' -o -name 'prometheus*.yaml' | sort)
else
  echo "skipped: promtool not installed (Debian package prometheus)"
fi

# Debian's python3-yaml serves /usr/bin/python3; a python3 earlier on PATH may lack it.
python=python3
"$python" -c 'import yaml' >/dev/null 2>&1 || python=/usr/bin/python3
run "compose.yaml parses and names three nodes and postgres" "$python" - "$deploy/three-nodes/compose.yaml" <<'PY'
import sys, yaml
compose = yaml.safe_load(open(sys.argv[1]))
services = compose["services"]
assert set(services) == {"postgres", "node1", "node2", "node3"}, services.keys()
for name in ("node1", "node2", "node3"):
    env = services[name]["environment"]
    assert env["TTA_HOST"] == name and env["TTA_DB_PROVIDER"] == "postgres", env
    assert services[name]["command"][-1] == "node"
PY

run "env file example has only KEY=value lines and comments" bash -c \
  "grep -vE '^(#.*|[A-Z][A-Z0-9_]*=.*|)$' '$deploy/systemd/tta-node.env.example' && exit 1 || exit 0"
for env in "$deploy"/systemd/workspaces/*.env; do
  run "workspace env ${env#"$deploy"/} has only KEY=value lines and comments" bash -c \
    "grep -vE '^(#.*|[A-Z][A-Z0-9_]*=.*|)$' '$env' && exit 1 || exit 0"
done
run "workspace env files use the metrics ports 9464, 9465, 9466 once each" bash -c \
  "[ \"\$(grep -h '^TTA_METRICS_PORT=' '$deploy'/systemd/workspaces/*.env | sort | tr '\n' ' ')\" = 'TTA_METRICS_PORT=9464 TTA_METRICS_PORT=9465 TTA_METRICS_PORT=9466 ' ]"

if command -v alloy >/dev/null 2>&1; then
  run "alloy fmt alloy/config.alloy" alloy fmt "$deploy/alloy/config.alloy"
else
  # No alloy binary on this machine: the tests read the file with an Alloy syntax reader (AlloyConfigSpecs) instead.
  echo "skipped: alloy not installed (Grafana's package, not in Debian); alloy/config.alloy is checked by AlloyConfigSpecs"
fi

run "start-three-nodes.sh syntax" bash -n "$deploy/three-nodes/start-three-nodes.sh"
run "start-three-nodes.sh --check (three nodes on loopback against PostgreSQL)" "$deploy/three-nodes/start-three-nodes.sh" --check

exit $failed
