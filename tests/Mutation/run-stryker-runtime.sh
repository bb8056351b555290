#!/usr/bin/env bash
# Mutation testing of the runtime's node API and workflow-file code (src/Runtime/Hosting/Node, src/Runtime/Hosting/Workflows) with
# Stryker.NET, against the fast in-process specs only (tests/TtaActors.Tests: NodeApi, WorkflowFiles, HoconLayers):
# never the node-process, cluster, Prometheus or PostgreSQL specs. One test process at a time (--concurrency 1),
# coverage per test, so a mutant runs only the tests that reach it. Not part of CI: it takes tens of minutes.
#
#   tests/Mutation/run-stryker-runtime.sh                                  # every file of both folders
#   tests/Mutation/run-stryker-runtime.sh --mutate '**/Node/NodeApi.cs'    # one file (any Stryker option passes on)
#
# The report lands in tests/Mutation/StrykerOutput/<date>/reports/ (mutation-report.html, .json); the score of each
# file is printed at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dotnet tool restore >/dev/null
# Stryker runs from the test project's folder and mutates the project it references by that name.
cd "$root/tests/TtaActors.Tests"
exec dotnet stryker --config-file "$root/tests/Mutation/stryker-runtime.json" \
  --output "$root/tests/Mutation/StrykerOutput/runtime-$(date -u +%Y%m%dT%H%M%S)" "$@"
