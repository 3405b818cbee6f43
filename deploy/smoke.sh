#!/bin/sh
# What the container image does, without docker: deploy/build.sh into a fresh venv and model
# directory, then deploy/start.sh on an empty data directory, as the image's entry point and
# HEALTHCHECK would run them. .ci/run runs this; it takes a fresh install (minutes).
#
#   deploy/smoke.sh [WORK_DIR]     (default: a new temporary directory, removed afterwards)
set -eu
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

"$source_dir/deploy/build.sh" "$work/venv" "$work/models"
# The image runs as a user who cannot write the program or the exported model.
chmod -R a-w "$work/models"

export NEWSBOT_BIN="$work/venv/bin/newsbot" NEWSBOT_DATA_DIR="$work/data" \
    NEWSBOT_MODEL_CACHE_DIR="$work/models" HF_HUB_OFFLINE=1
unset NEWSBOT_TELEGRAM_TOKEN
cd "$work"  # no .env of the developer's, as in the image

answer=$("$source_dir/deploy/start.sh" ask "When is Putin visiting Pyongyang?")
echo "$answer" | grep -q "June 18" || { echo "smoke: wrong answer: $answer" >&2; exit 1; }
"$NEWSBOT_BIN" health
status=0
"$source_dir/deploy/start.sh" 2>"$work/telegram.err" || status=$?
if [ "$status" -ne 2 ] || ! grep -q "NEWSBOT_TELEGRAM_TOKEN is not set" "$work/telegram.err"; then
    echo "smoke: start.sh without a token exited $status: $(cat "$work/telegram.err")" >&2
    exit 1
fi
chmod -R u+w "$work/models"
echo "smoke: the image's build and start steps work"
