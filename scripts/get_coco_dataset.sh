#!/usr/bin/env bash
# The seed's habit (`mkdir work; cd work; ../scripts/get_coco_dataset.sh`) as a thin shim:
# COCO 2014 into ./coco, verified and resumable, via `enet4y2 fetch-coco`.
# Extra arguments pass through, e.g. --mirror URL, --jobs 8, --labels-from-json, --dry-run.
set -euo pipefail
if command -v enet4y2 >/dev/null 2>&1; then
    exec enet4y2 fetch-coco --dir . "$@"
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -x "$here/.venv/bin/enet4y2" ]]; then
    exec "$here/.venv/bin/enet4y2" fetch-coco --dir . "$@"
fi
echo "error: enet4y2 not found; run 'make venv' in $here (or pip install -e $here)" >&2
exit 1
