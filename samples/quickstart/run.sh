#!/usr/bin/env bash
# The quickstart: a real process on the embedded Kafka cluster.
#   samples/quickstart/run.sh [BUILD_DIR]
# Starts `connrt embedded-cluster`, sends input/orders.jsonl (1,000 JSON
# orders) to topic "orders" keyed by customer, consumes them back and prints
# documents with their Kafka fields, then the execution history. Output
# files go to $OUT_DIR (default: a new temporary directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../_build}
if [ -x "$build/connrt" ]; then
    # CONNRT (make check sets it) may wrap the build's binary, e.g. in valgrind.
    connrt=${CONNRT:-$build/connrt}
    export CONNRT_CONNECTOR_PATH="$build/.libs${CONNRT_CONNECTOR_PATH:+:$CONNRT_CONNECTOR_PATH}"
else
    connrt=$(command -v connrt) || { echo "run.sh: no connrt in $build or on PATH" >&2; exit 2; }
fi
out=${OUT_DIR:-$(mktemp -d /tmp/connrt-quickstart.XXXXXX)}
mkdir -p "$out"
# Run in a copy of the container so history (data/) and logs (logs/) never
# land in the source tree or a read-only install.
container="$out/container"
rm -rf "$container"
mkdir -p "$container"
cp -R "$here/container.properties" "$here/deploy" "$container/"

# The cluster lives as long as this script; its first stdout line is the bootstrap list.
coproc CLUSTER { exec "$connrt" embedded-cluster --topic orders:4; }
trap 'kill "$CLUSTER_PID" 2>/dev/null || true; wait "$CLUSTER_PID" 2>/dev/null || true' EXIT
read -r -t 30 KAFKA_BOOTSTRAP <&"${CLUSTER[0]}"
export KAFKA_BOOTSTRAP
echo "== embedded Kafka cluster at $KAFKA_BOOTSTRAP"

echo "== produce: connrt run --process orders-to-kafka --input input/orders.jsonl"
"$connrt" run --container "$container" --process orders-to-kafka \
    --input "$here/input/orders.jsonl" --output "$out/produced.jsonl"
echo "   first result:"
head -n 1 "$out/produced.jsonl"

echo "== consume: connrt run --process read-orders"
"$connrt" run --container "$container" --process read-orders --output "$out/consumed.jsonl"
echo "   first 3 documents (value, key, topic, partition, offset, timestamp; \"tracked\": any others):"
head -n 3 "$out/consumed.jsonl"
echo "== $(wc -l < "$out/consumed.jsonl") documents read back; all output in $out"
echo "== execution history of the container:"
"$connrt" executions --container "$container" --limit 5
