#!/usr/bin/env bash
# bench/listen.sh - the Listen benchmark: end-to-end throughput of a
# listener against a raw librdkafka consumer, and produce-to-commit latency
# at a fixed rate, on a fresh `connrt embedded-cluster` per
# measurement. `make bench-listen` runs it and writes bench/LISTEN-RESULTS.md;
# see bench/README.md. The work is done by bench/listen.py.
#
# Env (defaults in brackets):
#   RUNS [3]                 runs per figure
#   PARTS [32]               partitions of the throughput data sets
#   BATCHES ["1 100 1000"]   batch_size values     CONCS ["1 4"]  max_concurrent_executions
#   LISTEN_N ["1:32000 100:960000 1000:960000"]    messages per batch size (whole
#                            batches on PARTS partitions, at most ~4 MiB per partition)
#   LAT_BATCHES ["1 100"]    batch sizes of the latency runs ("none": no latency runs)
#   LAT_RATE [2000] LAT_SECS [10]   messages/s and seconds of the latency runs
#   PERF                     a directory: `perf record` every throughput run's listener
#   WORK [/tmp/connrt-bench-listen]   scratch directory
#   RESULTS                  also write the markdown report to this file
#   CONNRT, CONNRT_CONNECTOR_PATH, RAWBENCH, LISTENWATCH, PYTHON3   (set by make bench-listen)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONNRT:?run through make bench-listen (CONNRT unset)}"
: "${RAWBENCH:?run through make bench-listen (RAWBENCH unset)}"
: "${LISTENWATCH:?run through make bench-listen (LISTENWATCH unset)}"
export CONNRT_CONNECTOR_PATH
PYTHON3=${PYTHON3:-/usr/bin/python3}
WORK=${WORK:-/tmp/connrt-bench-listen}
"$PYTHON3" -c 'import kafka' 2>/dev/null ||
    { echo "bench-listen: python3-kafka needed (apt-get install python3-kafka)" >&2; exit 2; }
if [ -n "${PERF:-}" ]; then
    command -v perf >/dev/null ||
        { echo "bench-listen: perf needed (apt-get install linux-perf)" >&2; exit 2; }
fi
mkdir -p "$WORK"

args=(--connrt "$CONNRT" --rawbench "$RAWBENCH" --listenwatch "$LISTENWATCH" --work "$WORK"
      --runs "${RUNS:-3}")
[ -n "${PARTS:-}" ] && args+=(--partitions "$PARTS")
[ -n "${BATCHES:-}" ] && args+=(--batches "$BATCHES")
[ -n "${CONCS:-}" ] && args+=(--concs "$CONCS")
[ -n "${LISTEN_N:-}" ] && args+=(--n "$LISTEN_N")
case "${LAT_BATCHES:-}" in
'') ;;
none) args+=(--lat-batches "") ;;
*) args+=(--lat-batches "$LAT_BATCHES") ;;
esac
[ -n "${LAT_RATE:-}" ] && args+=(--lat-rate "$LAT_RATE")
[ -n "${LAT_SECS:-}" ] && args+=(--lat-secs "$LAT_SECS")
[ -n "${PERF:-}" ] && args+=(--perf-dir "$PERF")
[ -n "${RESULTS:-}" ] && args+=(--write "$RESULTS")
echo "# bench-listen: work=$WORK RUNS=${RUNS:-3}" >&2
exec "$PYTHON3" "$HERE/listen.py" "${args[@]}"
