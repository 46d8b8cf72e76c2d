#!/usr/bin/env bash
# Parses OpenMetrics text on stdin with Prometheus's own Python client
# library (its reference parser) and prints every family and sample as
# JSON: {"families": {name: type}, "samples": [{"name", "labels", "value"}]}.
# A malformed exposition fails (exit 1) with the parser's message.
#   curl .../metrics | scripts/prometheus-parse.sh
# Installs the pinned prometheus_client into .tools/ (ignored) on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/prometheus-client"
if [ ! -d "$tools/prometheus_client" ]; then
  mkdir -p "$tools"
  python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$tools" prometheus_client==0.26.0 >&2
fi
PYTHONPATH="$tools" exec python3 -c '
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families, samples = {}, []
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = family.type
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps({"families": families, "samples": samples}))
'
