#!/usr/bin/env bash
# Starts three tta nodes on this host against one PostgreSQL database: node 1 is the seed, nodes 2 and 3 join it.
#
#   deploy/three-nodes/start-three-nodes.sh           start, print the addresses, run until Ctrl+C
#   deploy/three-nodes/start-three-nodes.sh --check   start, run a workflow on every node, stop cleanly, exit 0 or 1
#
# PostgreSQL: set TTA_DB to a connection string, or leave it unset and the script starts a throwaway server
# (initdb + pg_ctl from the postgresql package, in a temporary directory, on a free loopback port).
# Ports: HTTP 127.0.0.1:18081-18083, metrics :19465-19467 (deploy/three-nodes/prometheus.yml scrapes them),
# remoting :18111-18113. Override the bases with HTTP_BASE, METRICS_BASE and REMOTING_BASE.
# The binary: TTA_DLL, else src/Runtime/bin/Debug/net10.0/tta.dll (built if missing).
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
check=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) check=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "start-three-nodes.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
tta_dll=${TTA_DLL:-$repo/src/Runtime/bin/Debug/net10.0/tta.dll}
http_base=${HTTP_BASE:-18080}
metrics_base=${METRICS_BASE:-19464}
remoting_base=${REMOTING_BASE:-18110}
if [[ ! -f "$tta_dll" ]]; then
  echo "Building the runtime ($tta_dll is missing)..."
  dotnet build "$repo/src/Runtime" -nologo -v quiet
fi

work=$(mktemp -d /tmp/tta-three-nodes.XXXXXX)
pids=()
pgdata=""
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "$pgdata" ]]; then as_postgres pg_ctl -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ -z "${TTA_DB:-}" ]]; then
  # Debian's postgresql package keeps initdb and pg_ctl out of PATH.
  if ! command -v initdb >/dev/null 2>&1; then
    for bin in /usr/lib/postgresql/*/bin; do [[ -x "$bin/initdb" ]] && PATH="$PATH:$bin"; done
  fi
  if ! command -v initdb >/dev/null 2>&1; then
    echo "start-three-nodes.sh: initdb not found; install the postgresql package or set TTA_DB to a connection string." >&2
    exit 1
  fi
  pgdata="$work/postgres"
  pgport=$(free_port)
  mkdir -p "$pgdata"
  if [[ $(id -u) == 0 ]]; then chown postgres "$work" "$pgdata"; fi
  as_postgres initdb -D "$pgdata" -U tta --auth=trust >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
  as_postgres pg_ctl -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1" start >/dev/null
  export TTA_DB="Host=127.0.0.1;Port=$pgport;Database=postgres;Username=tta"
  echo "PostgreSQL on 127.0.0.1:$pgport (throwaway, in $pgdata)"
fi

seed="akka.tcp://tta@127.0.0.1:$((remoting_base + 1))"
for i in 1 2 3; do
  mkdir -p "$work/node$i"
  TTA_DB_PROVIDER=postgres TTA_SEED_NODES="$seed" TTA_SERVICE_NAME="${TTA_SERVICE_NAME:-tta-three-nodes}" \
    dotnet "$tta_dll" node --host 127.0.0.1 --port $((remoting_base + i)) --http "127.0.0.1:$((http_base + i))" \
      --metrics-port $((metrics_base + i)) --data "$work/node$i" >"$work/node$i.log" 2>&1 &
  pids+=($!)
done

for i in 1 2 3; do
  url="http://127.0.0.1:$((http_base + i))"
  for _ in $(seq 1 240); do
    if curl -fsS "$url/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
      echo "start-three-nodes.sh: node $i exited during start-up:" >&2
      cat "$work/node$i.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  curl -fsS "$url/readyz" >/dev/null || { echo "start-three-nodes.sh: node $i is not ready after 120 s:" >&2; cat "$work/node$i.log" >&2; exit 1; }
  echo "node $i ready: API $url, metrics http://localhost:$((metrics_base + i))/metrics, remoting 127.0.0.1:$((remoting_base + i))"
done

if [[ $check == 0 ]]; then
  echo "Three nodes running; logs in $work. Ctrl+C stops them."
  wait
  exit 0
fi

failed=0
for i in 1 2 3; do
  url="http://127.0.0.1:$((http_base + i))"
  answer=$(curl -sS -X POST "$url/runs" -H 'Content-Type: application/json' \
    -d "{\"workflow\": \"dev-copilot-demo\", \"input\": \"feature: node-$i: check the three-node example\", \"session\": \"three-nodes-$i\", \"persona\": \"backend-engineer\"}")
  if [[ "$answer" == *'"status":"succeeded"'* ]]; then echo "node $i: run succeeded"
  else echo "node $i: run did not succeed: $answer" >&2; failed=1; fi
done

# The nodes form one cluster: a persona switched through node 1 is read back through node 3.
curl -sS -X POST "http://127.0.0.1:$((http_base + 1))/sessions/three-nodes-shared/persona" -H 'Content-Type: application/json' \
  -d '{"persona": "frontend-dev", "chatmode": "review"}' >/dev/null
shared=$(curl -sS "http://127.0.0.1:$((http_base + 3))/sessions/three-nodes-shared")
if [[ "$shared" == *'"persona":"frontend-dev"'* ]]; then echo "session switched on node 1 is read on node 3"
else echo "node 3 does not see the session switched on node 1: $shared" >&2; failed=1; fi

for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for i in 1 2 3; do
  if wait "${pids[$((i - 1))]}"; then echo "node $i: stopped cleanly"
  else echo "node $i: exited with an error:" >&2; cat "$work/node$i.log" >&2; failed=1; fi
done
pids=()
exit $failed
