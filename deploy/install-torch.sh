#!/bin/sh
# Install torch's CPU build into a venv: from PyTorch's CPU wheel index, else the plain index.
#
#   deploy/install-torch.sh VENV [VERSION]
#
# On Linux the plain index's torch is the multi-GB CUDA build, so the CPU index comes first.
# Where it cannot be reached the attempt gives up after one try of 5 seconds (about 10 s in
# all, measured where it is unreachable) and the plain index is used: there, and on macOS,
# whose torch wheels carry no CUDA (Apple GPUs through MPS), the same version is installed.
set -eu
venv=$1
version=${2:-2.13.0}
cpu_index=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
# --no-deps: only torch itself comes from the CPU index; its dependencies resolve from the
# plain index in the second command, which then finds torch already installed.
if ! "$venv/bin/pip" install --quiet --retries 0 --timeout 5 --no-deps \
        --index-url "$cpu_index" "torch==$version"; then
    echo "install-torch: $cpu_index unreachable; using the plain package index" >&2
fi
"$venv/bin/pip" install --quiet "torch==$version"
