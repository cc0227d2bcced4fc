#!/usr/bin/env bash
# tests/soak/run.sh - the fault soak: `make soak` runs it (not part of
# `make check`); see tests/soak/README.md. The work is done by soak.py.
#
# Env (defaults in brackets):
#   N [1000000]            documents fed through the listener
#   FEED_SECONDS [420]     how long the feed lasts (rate = N / FEED_SECONDS)
#   FAULT_INTERVAL [5]     seconds between faults      OUTAGE_SECONDS [3]  length of an outage
#   KILL_AT [0.1,0.25,0.4,0.55]   fractions of the feed at which the listener is SIGKILLed
#                          (none: never)
#   PARTITIONS [16]        partitions of the input and output topics
#   MAX_LAG [50000]        the feed holds back while the listener lags more than this
#   WORK [a new /tmp/connrt-soak.XXXXXX]   scratch directory (kept: logs, fault log)
#   RESULTS                where the markdown report goes; only a run with the
#                          default N rewrites it (make soak: tests/soak/RESULTS.md)
#   CONNRT, CONNRT_CONNECTOR_PATH, KCAT, PYTHON3   (set by make soak)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONNRT:?run through make soak (CONNRT unset)}"
export CONNRT_CONNECTOR_PATH
PYTHON3=${PYTHON3:-/usr/bin/python3}
KCAT=${KCAT:-$(command -v kcat || true)}
[ -n "$KCAT" ] || { echo "soak: kcat needed (apt-get install kcat)" >&2; exit 2; }
"$PYTHON3" -c 'import confluent_kafka' 2>/dev/null ||
    { echo "soak: python3-confluent-kafka needed (apt-get install python3-confluent-kafka)" >&2; exit 2; }
N=${N:-1000000}
WORK=${WORK:-$(mktemp -d /tmp/connrt-soak.XXXXXX)}

args=(--connrt "$CONNRT" --kcat "$KCAT" --work "$WORK" --top "$HERE/../.." --n "$N")
[ -n "${FEED_SECONDS:-}" ] && args+=(--feed-seconds "$FEED_SECONDS")
[ -n "${FAULT_INTERVAL:-}" ] && args+=(--fault-interval "$FAULT_INTERVAL")
[ -n "${OUTAGE_SECONDS:-}" ] && args+=(--outage-seconds "$OUTAGE_SECONDS")
[ -n "${KILL_AT:-}" ] && args+=(--kill-at "$KILL_AT")
[ -n "${PARTITIONS:-}" ] && args+=(--partitions "$PARTITIONS")
[ -n "${MAX_LAG:-}" ] && args+=(--max-lag "$MAX_LAG")
if [ -n "${RESULTS:-}" ]; then
    if [ "$N" = 1000000 ]; then
        args+=(--write "$RESULTS")
    else
        echo "soak: N=$N is not the full run: the report goes to $WORK/RESULTS.md only" >&2
    fi
fi
echo "soak: N=$N, work directory $WORK" >&2
exec "$PYTHON3" "$HERE/soak.py" "${args[@]}"
