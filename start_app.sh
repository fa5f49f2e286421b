#!/usr/bin/env bash
# Start the browser app, the same as `heygem serve`: ./start_app.sh [--root-path DIR] [--port 7860] [--ip IP]
# [--token T] [--lang zh|en] [--max-upload-mb MB]. Uses .venv/ when it exists (`make install` creates it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
[ -x "$here/.venv/bin/python" ] && python="$here/.venv/bin/python"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m heygem_core.cli serve "$@"
