#!/bin/sh
# The container's entry point: index the seed articles into an empty data directory, then
# run `newsbot COMMAND` (default `telegram`; `docker run IMAGE ask "..."` works too).
#
#   deploy/start.sh [COMMAND [ARG ...]]
#
# NEWSBOT_DATA_DIR (the image sets /data, its volume) holds the index; NEWSBOT_SEEDS
# (default seeds/ beside this script) is what an empty one starts from.
set -eu
source_dir=$(cd "$(dirname "$0")/.." && pwd)
newsbot=${NEWSBOT_BIN:-newsbot}
data_dir=${NEWSBOT_DATA_DIR:-data}
seeds=${NEWSBOT_SEEDS:-$source_dir/seeds}

if [ ! -e "$data_dir/CURRENT" ]; then
    echo "start: no index in $data_dir yet: indexing $seeds" >&2
    "$newsbot" index "$seeds"
fi
if [ $# -eq 0 ]; then
    set -- telegram
fi
exec "$newsbot" "$@"
