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
run "start-three-nodes.sh syntax" bash -n "$deploy/three-nodes/start-three-nodes.sh"
run "start-three-nodes.sh --check (three nodes on loopback against PostgreSQL)" "$deploy/three-nodes/start-three-nodes.sh" --check

exit $failed
