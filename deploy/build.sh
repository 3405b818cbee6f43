#!/bin/sh
# The container image's build steps, as a plain script (the Dockerfile RUNs it; CI runs it
# into a fresh venv, so what the image does is tested where no docker engine runs).
#
#   deploy/build.sh VENV MODEL_DIR
#
# Makes VENV, installs torch's CPU build and newsbot (not editable, no dev tools) from the
# source tree this script is in, and exports the embedding model to ONNX in MODEL_DIR, so
# that the image starts and answers offline without exporting anything.
set -eu
venv=$1
models=$2
source_dir=$(cd "$(dirname "$0")/.." && pwd)

python3 -m venv "$venv"
"$source_dir/deploy/install-torch.sh" "$venv"
"$venv/bin/pip" install --quiet "$source_dir"
mkdir -p "$models"
# Loading the default (onnx) embedder exports the bundled model into NEWSBOT_MODEL_CACHE_DIR.
NEWSBOT_MODEL_CACHE_DIR=$models HF_HUB_OFFLINE=1 "$venv/bin/python" -c '
from bot.app import make_embedder
from bot.settings import load_settings

embedder = make_embedder(load_settings(None))
vectors = embedder.encode(["warm-up"])
print(f"exported {embedder.name}: {vectors.shape[1]} dimensions")
'
"$venv/bin/newsbot" --version
