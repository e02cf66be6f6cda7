#!/usr/bin/env bash
# Generate Python stubs from contracts/grpc/*.proto next to the .proto files.
# Usage: scripts/gen-protos.sh [OUTDIR]   (OUTDIR defaults to the repo root)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.}"
mkdir -p "$out/contracts/grpc"
exec "${PYTHON:-.venv/bin/python}" -m grpc_tools.protoc -I. \
  --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" contracts/grpc/*.proto
