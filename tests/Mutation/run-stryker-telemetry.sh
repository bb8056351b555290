#!/usr/bin/env bash
# Mutation testing of the telemetry pipeline (src/Telemetry/Export) with Stryker.NET, the version pinned in
# .config/dotnet-tools.json. Not part of CI: one run takes tens of minutes on two cores.
#
#   tests/Mutation/run-stryker-telemetry.sh                       # every pipeline file in the config
#   tests/Mutation/run-stryker-telemetry.sh --mutate '**/Export/ExporterActor.cs'   # one file (repeatable)
#
# Only the fast in-process specs run against each mutant (TelemetryPipelineSpecs, ExporterFailureSpecs,
# PipelineConfigSpecs, PipelineAccountingSpecs: virtual time, no process, no Prometheus, no PostgreSQL), one at a time, each mutant against the
# specs that cover it. The report lands in tests/Mutation/telemetry/StrykerOutput/<date>/reports/ (html and json).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dotnet tool restore >/dev/null
cd "$root/tests/Mutation/telemetry"
exec dotnet stryker --config-file stryker-config.json "$@"
