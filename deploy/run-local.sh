#!/usr/bin/env bash
# The reference deployment on this machine: nginx in front of two provider processes and the
# site, on the local PostgreSQL and Redis. Ctrl-C (or `deploy/run-local.sh stop`) stops it.
#
#   deploy/run-local.sh [up] [--port 8080] [--state-dir var/deploy] [--keep-databases]
#   deploy/run-local.sh stop [--state-dir var/deploy]
#   deploy/run-local.sh nginx-config [--tls]
#
# Everything is implemented in deploy/local.py; see `deploy/run-local.sh --help`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if [ ! -x "$python" ]; then
  echo "no virtualenv at $root/.venv: run \`make install\` first (or set PYTHON)" >&2
  exit 1
fi
exec "$python" "$root/deploy/local.py" "$@"
