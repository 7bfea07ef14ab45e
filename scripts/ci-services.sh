#!/usr/bin/env bash
# Start the services the test suite needs, on loopback only.  Idempotent.
# Writes .ci/env with the variables the tests read.
set -euo pipefail
cd "$(dirname "$0")/.."
: > .ci/env
echo "services: nothing extra needed yet"
