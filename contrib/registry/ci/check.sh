#!/bin/sh
# CI for an alamesh registry: every pull request must pass the same checks
# alameshd applies when it reads the registry. Exits 1 with one line per
# problem (file: reason). Runs alamesh(8) from PATH, or $ALAMESH if set
# (e.g. ALAMESH=../alamesh/build/alamesh sh ci/check.sh in a checkout).
set -eu
cd "$(dirname "$0")/.."
exec "${ALAMESH:-alamesh}" registry check .
