#!/usr/bin/env bash
# Check that `make darknet GPU=1 CUDNN=1 [CUDNN_HALF=1]` compiles and links here, even with
# no GPU: CUDA from the toolkit (nvcc), cuBLAS/cuRAND/cuDNN from NVIDIA's pip wheels when
# the system has none. Builds into build/darknet-gpu so the CPU build stays in place.
# Usage: scripts/check_gpu_build.sh [DARKNET_SRC] [extra make flags, e.g. CUDNN_HALF=1]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-third_party/darknet}
shift || true
make venv >/dev/null
py=.venv/bin/python
if ! $py -c "import nvidia.cudnn" 2>/dev/null; then
  echo "installing NVIDIA's CUDA library wheels into .venv (about 2 GB)"
  $py -m pip install --quiet nvidia-cublas nvidia-curand nvidia-cudnn-cu13
fi
dest=build/darknet-gpu
start=$(date +%s.%N)
make darknet GPU=1 CUDNN=1 "$@" DARKNET_SRC="$src" DEST="$dest"
end=$(date +%s.%N)
echo "GPU build: $(echo "$end - $start" | bc) s wall"
ldd "$dest/libdarknet.so" | grep -E "cublas|curand|cudnn|cudart|cuda\.so" || true
ENET4Y2_DARKNET_DIR="$dest" $py -c "
from enet4y2.darknet import extension_path
from enet4y2.build import record as build_record
from enet4y2 import paths
print('binding:', extension_path())
print('record:', build_record.read(paths.darknet_dir())['flags'])
"
