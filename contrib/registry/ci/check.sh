#!/bin/sh
# CI for an alamesh registry: every pull request must pass the same checks
# alameshd applies when it reads the registry. Exits 1 with one line per
# problem (file: reason). Needs alamesh(8) on PATH (make install).
set -eu
cd "$(dirname "$0")/.."
exec alamesh registry check .
