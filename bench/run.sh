#!/usr/bin/env bash
# bench/run.sh - connrt against raw librdkafka and kcat, in one run, on a
# fresh embedded cluster (`connrt embedded-cluster`) per run. `make bench`
# runs it and writes bench/RESULTS.md; see bench/README.md.
#
# Env (defaults in brackets):
#   N [1000000]        messages per run          RUNS [3]  runs per figure
#   SIZES ["100 1024"] value sizes in bytes      WORK [/tmp/connrt-bench]
#   MEM_NS ["100000 1000000"] MEM_SIZE [1024]    documents/size of the memory runs
#   MEM_RUNS [3]       memory runs per figure (the table shows their median)
#   MEM=0              skip the memory runs      POLL_RECORDS [10000]
#   RESULTS            also write the markdown report to this file
#   CONNRT, CONNRT_CONNECTOR_PATH, RAWBENCH, KCAT, PYTHON3   (set by make bench)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONNRT:?run through make bench (CONNRT unset)}"
: "${RAWBENCH:?run through make bench (RAWBENCH unset)}"
export CONNRT_CONNECTOR_PATH
KCAT=${KCAT:-kcat}
PYTHON3=${PYTHON3:-/usr/bin/python3}
N=${N:-1000000}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"100 1024"}
MEM=${MEM:-1}
MEM_NS=${MEM_NS:-"100000 1000000"}
MEM_SIZE=${MEM_SIZE:-1024}
MEM_RUNS=${MEM_RUNS:-3}
POLL_RECORDS=${POLL_RECORDS:-10000}
WORK=${WORK:-/tmp/connrt-bench}
# The same fetch tuning for every consumer (librdkafka's default prefetch
# threshold is far below what a fast consumer drains).
FETCH_TUNING=(queued.min.messages=1000000)
GNU_TIME=/usr/bin/time

# Two containers with the same definitions: "container" records only the
# executions and failed documents in its history (history.documents=errors);
# "container-history" keeps the default, a row per document with its
# tracked properties, measured separately on N/10 documents.
N_HIST=$(( N / 10 > 10000 ? N / 10 : (N < 10000 ? N : 10000) ))
# "container-one" is "container" with max.poll.records = 1, for the
# one-message consume runs: max.poll.records rounds min_messages up, so with
# 10000 the one-message run would wait out max_wait_ms.
mkdir -p "$WORK/container/deploy" "$WORK/container-history/deploy" "$WORK/container-one/deploy"
# Consume rounds min_messages up to a multiple of max.poll.records: any
# other count would wait out max_wait_ms (300 s) instead of measuring.
for n in "$N" "$N_HIST" $(if [ "$MEM" = 1 ]; then echo "$MEM_NS"; fi); do
    if [ $((n % POLL_RECORDS)) -ne 0 ]; then
        echo "bench: $n documents is not a multiple of POLL_RECORDS ($POLL_RECORDS): Consume" \
            "would wait for $(( (n + POLL_RECORDS - 1) / POLL_RECORDS * POLL_RECORDS ))." \
            "Choose counts that are, or set POLL_RECORDS (e.g. POLL_RECORDS=$n)" >&2
        exit 2
    fi
done
RES="$WORK/results.tsv"
: >"$RES"
need() { echo "bench: $1 needed (apt-get install $2)" >&2; exit 2; }
command -v "$KCAT" >/dev/null || need kcat kcat
"$GNU_TIME" -f %M true 2>/dev/null || need "GNU time" time

# ------------------------------------------------------------ the cluster
CLUSTER_PID=""
BS=""
start_cluster() { # topic:partitions...
    local args=() t
    # Every run starts with empty histories, so that none grows run by run.
    rm -rf "$WORK/container/data" "$WORK/container-history/data" "$WORK/container-one/data"
    for t in "$@"; do args+=(--topic "$t"); done
    : >"$WORK/cluster.out"
    "$CONNRT" embedded-cluster "${args[@]}" </dev/null >"$WORK/cluster.out" 2>"$WORK/cluster.err" &
    CLUSTER_PID=$!
    for _ in $(seq 600); do
        if [ "$(wc -l <"$WORK/cluster.out")" -ge 1 ]; then
            BS=$(head -n 1 "$WORK/cluster.out")
            return 0
        fi
        kill -0 "$CLUSTER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: connrt embedded-cluster did not print its bootstrap list" >&2
    cat "$WORK/cluster.err" >&2
    exit 1
}
stop_cluster() {
    if [ -n "$CLUSTER_PID" ]; then
        kill -TERM "$CLUSTER_PID" 2>/dev/null || true
        wait "$CLUSTER_PID" 2>/dev/null || true
    fi
    CLUSTER_PID=""
}
trap stop_cluster EXIT
# One measurement (its arguments) on a cluster of its own with topic t:4.
on_fresh_cluster() {
    start_cluster t:4
    "$@" || true
    stop_cluster
}

# Partitions for a consume data set: the cluster keeps ~5 MiB per partition,
# so give each at most 4 MiB, rounded up to a power of two.
dataset_partitions() { # N SIZE
    local need=$(( ($1 * ($2 + 40) + 4194303) / 4194304 )) parts=4
    while [ "$parts" -lt "$need" ]; do parts=$((parts * 2)); done
    echo "$parts"
}

# ------------------------------------------------------------ measuring
# measure SIZE TEST RUN N CHECK CMD...: the whole process (start-up
# included): wall seconds, peak RSS, CPU seconds. CHECK is a file that must
# then hold N lines (nothing lost or doubled), or "-". Records NaN when the
# command fails.
measure() {
    local size=$1 test=$2 run=$3 n=$4 check=$5; shift 5
    local t0 t1 rc=0 why=""
    # The previous run's output (up to a GiB) goes before the clock starts:
    # truncating it in the next run would be timed as that run's work.
    rm -f "$WORK/last.out"
    if [ "$check" != - ]; then rm -f "$check"; fi
    t0=$(date +%s.%N)
    "$GNU_TIME" -f '%M %U %S' -o "$WORK/time.out" "$@" >"$WORK/last.out" 2>"$WORK/last.err" ||
        rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" -ne 0 ]; then
        why="exit status $rc"
    elif [ "$check" != - ] && [ "$(wc -l <"$check")" -ne "$n" ]; then
        why="$(wc -l <"$check") lines written, $n expected"
    fi
    if [ -n "$why" ]; then
        echo "bench: FAILED ($why): $test size=$size n=$n run=$run" >&2
        tail -n 5 "$WORK/last.err" >&2 || true
        printf '%s\t%s\t%s\tNaN\t%s\t\t\n' "$size" "$test" "$run" "$n" >>"$RES"
        return 1
    fi
    tail -n 1 "$WORK/time.out" | awk -v s="$size" -v t="$test" -v r="$run" -v n="$n" \
        -v a="$t0" -v b="$t1" \
        '{ printf "%s\t%s\t%s\t%.4f\t%s\t%s\t%.3f\n", s, t, r, b - a, n, $1, $2 + $3 }' >>"$RES"
}

# ------------------------------------------------------------ inputs
payload_file() { # N SIZE [kcat] -> path of N JSON lines of SIZE bytes
    local f="$WORK/payload-$2-$1${3:+-kcat}.txt"
    if [ ! -s "$f" ]; then
        if [ -n "${3:-}" ]; then
            "$RAWBENCH" payload -n "$1" -s "$2" -d "$(printf '\t')" >"$f.tmp"
        else
            "$RAWBENCH" payload -n "$1" -s "$2" >"$f.tmp"
        fi
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

cat >"$WORK/container/container.properties" <<EOF
# Consume: records per poll (the default of 1 is meant for small batches).
connector.kafka.max.poll.records = $POLL_RECORDS
# Executions and failed documents only; the per-document history is
# measured with container-history.
history.documents = errors
EOF
cat >"$WORK/container-one/container.properties" <<EOF
connector.kafka.max.poll.records = 1
history.documents = errors
EOF
cat >"$WORK/container-history/container.properties" <<EOF
connector.kafka.max.poll.records = $POLL_RECORDS
EOF
cat >"$WORK/container/deploy/bench.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BENCH_BOOTSTRAP}</property>
    <property name="librdkafka.queued.min.messages">1000000</property>
  </connection>
  <operation id="send" connection="kafka" type="produce">
    <property name="topic">${env:BENCH_TOPIC}</property>
    <property name="linger_ms">5</property>
    <property name="acks">all</property>
    <property name="idempotence">true</property>
  </operation>
  <operation id="read" connection="kafka" type="consume">
    <property name="topic">${env:BENCH_TOPIC}</property>
    <property name="consumer_group">${env:BENCH_GROUP}</property>
    <property name="min_messages">${env:BENCH_N}</property>
    <property name="max_wait_ms">300000</property>
    <property name="autocommit">false</property>
  </operation>
  <process id="produce">
    <start/>
    <set-properties>
      <property name="connector.kafka.key" json-pointer="/customer"/>
    </set-properties>
    <connector operation="send"/>
  </process>
  <process id="produce-nokey">
    <start/>
    <connector operation="send"/>
  </process>
  <process id="consume">
    <start operation="read"/>
    <output/>
  </process>
</connrt>
XML
cp "$WORK/container/deploy/bench.xml" "$WORK/container-history/deploy/bench.xml"
cp "$WORK/container/deploy/bench.xml" "$WORK/container-one/deploy/bench.xml"

# ------------------------------------------------------------ one client each
kcat_x() { local x; for x in "${FETCH_TUNING[@]}"; do printf -- '-X\n%s\n' "$x"; done; }
mapfile -t KCAT_FETCH < <(kcat_x)
RAW_FETCH=("${KCAT_FETCH[@]}")

connrt_produce() { # SIZE TEST RUN N TOPIC [PROCESS [CONTAINER]]
    measure "$1" "$2" "$3" "$4" - env BENCH_BOOTSTRAP="$BS" BENCH_TOPIC="$5" \
        BENCH_GROUP=unused BENCH_N=1 "$CONNRT" run --container "$WORK/${7:-container}" \
        --process "${6:-produce}" --input "$(payload_file "$4" "$1")"
}
connrt_consume() { # SIZE TEST RUN N TOPIC GROUP [CONTAINER]
    measure "$1" "$2" "$3" "$4" "$WORK/consumed.jsonl" env BENCH_BOOTSTRAP="$BS" \
        BENCH_TOPIC="$5" BENCH_GROUP="$6" BENCH_N="$4" "$CONNRT" run \
        --container "$WORK/${7:-container}" --process consume --output "$WORK/consumed.jsonl"
}
raw_produce() { # SIZE TEST RUN N TOPIC [-k]
    measure "$1" "$2" "$3" "$4" - \
        "$RAWBENCH" produce -b "$BS" -t "$5" -n "$4" -s "$1" ${6:-}
}
raw_consume() { # SIZE TEST RUN N TOPIC [GROUP]
    measure "$1" "$2" "$3" "$4" - \
        "$RAWBENCH" consume -b "$BS" -t "$5" -n "$4" ${6:+-g "$6"} "${RAW_FETCH[@]}"
}
kcat_produce() { # SIZE TEST RUN N TOPIC
    measure "$1" "$2" "$3" "$4" - \
        "$KCAT" -P -b "$BS" -t "$5" -K "$(printf '\t')" -l "$(payload_file "$4" "$1" kcat)" \
        -X linger.ms=5 -X acks=all -X enable.idempotence=true -X partitioner=murmur2_random
}
kcat_consume() { # SIZE TEST RUN N TOPIC GROUP
    measure "$1" "$2" "$3" "$4" "$WORK/last.out" \
        "$KCAT" -b "$BS" -G "$6" -q -c "$4" -X auto.offset.reset=earliest \
        "${KCAT_FETCH[@]}" "$5"
}

# A consume data set: N keyed messages of SIZE, in full batches on every
# partition (as a producer with many keys leaves them).
lay_dataset() { # N SIZE TOPIC PARTS
    "$RAWBENCH" produce -b "$BS" -t "$3" -n "$1" -s "$2" -k -p "$4" >"$WORK/dataset.out" ||
        { echo "bench: could not lay down the consume data set" >&2; exit 1; }
}

echo "# bench: N=$N RUNS=$RUNS SIZES='$SIZES' work=$WORK" >&2
for size in $SIZES; do
    parts=$(dataset_partitions "$N" "$size")
    payload_file "$N" "$size" >/dev/null
    payload_file "$N" "$size" kcat >/dev/null
    payload_file "$N_HIST" "$size" >/dev/null
    for run in $(seq "$RUNS"); do
        echo "# size=$size run=$run/$RUNS (consume data set on $parts partitions)" >&2
        hparts=$(dataset_partitions "$N_HIST" "$size")
        # Produce: each client on a fresh cluster of its own. The mock keeps
        # every message in memory, so a client that ran after others on one
        # cluster paid for their gigabytes (1,000,000 of 1 KiB: connrt took
        # 1.25 s as the second client of a cluster, 1.7 s as the third).
        on_fresh_cluster raw_produce "$size" raw_produce "$run" "$N" t -k
        on_fresh_cluster kcat_produce "$size" kcat_produce "$run" "$N" t
        on_fresh_cluster connrt_produce "$size" connrt_produce "$run" "$N" t
        # Diagnostic: the same without a key (no JSON parsing in connrt).
        on_fresh_cluster raw_produce "$size" raw_produce_nokey "$run" "$N" t
        on_fresh_cluster connrt_produce "$size" connrt_produce_nokey "$run" "$N" t produce-nokey
        # The per-document history (the container default) on N_HIST, and
        # the same without it.
        on_fresh_cluster connrt_produce "$size" connrt_produce_hist_errors "$run" "$N_HIST" t
        on_fresh_cluster connrt_produce "$size" connrt_produce_hist_all "$run" "$N_HIST" t \
            produce container-history
        start_cluster "cdata:$parts" "hdata:$hparts" one:1
        lay_dataset "$N" "$size" cdata "$parts"
        lay_dataset "$N_HIST" "$size" hdata "$hparts"
        lay_dataset 1 "$size" one 1
        # Consume: without a group (reference), then every client through a
        # fresh consumer group, as connrt's consume operation does; the
        # one-message runs measure each client's fixed cost (start-up and
        # the group join, 3 s on this cluster).
        raw_consume "$size" raw_consume_assign "$run" "$N" cdata || true
        raw_consume "$size" raw_consume "$run" "$N" cdata "raw-$run" || true
        raw_consume "$size" raw_consume_1 "$run" 1 one "raw1-$run" || true
        kcat_consume "$size" kcat_consume "$run" "$N" cdata "kcat-$run" || true
        kcat_consume "$size" kcat_consume_1 "$run" 1 one "kcat1-$run" || true
        connrt_consume "$size" connrt_consume "$run" "$N" cdata "connrt-$run" || true
        connrt_consume "$size" connrt_consume_1 "$run" 1 one "connrt1-$run" container-one || true
        connrt_consume "$size" connrt_consume_hist_errors "$run" "$N_HIST" hdata \
            "connrthe-$run" || true
        connrt_consume "$size" connrt_consume_hist_all "$run" "$N_HIST" hdata \
            "connrtha-$run" container-history || true
        stop_cluster
    done
    rm -f "$WORK"/payload-"$size"-*
done

if [ "$MEM" != 0 ]; then
    for n in $MEM_NS; do
        echo "# memory: $n documents of $MEM_SIZE B" >&2
        parts=$(dataset_partitions "$n" "$MEM_SIZE")
        # A peak RSS moves by several MiB from run to run: the table shows
        # the median of MEM_RUNS.
        for r in $(seq "$MEM_RUNS"); do
            on_fresh_cluster raw_produce "$MEM_SIZE" mem_raw_produce "$n.$r" "$n" t -k
            on_fresh_cluster connrt_produce "$MEM_SIZE" mem_connrt_produce "$n.$r" "$n" t
            start_cluster "cdata:$parts"
            lay_dataset "$n" "$MEM_SIZE" cdata "$parts"
            raw_consume "$MEM_SIZE" mem_raw_consume "$n.$r" "$n" cdata "mem-raw-$r" || true
            connrt_consume "$MEM_SIZE" mem_connrt_consume "$n.$r" "$n" cdata "mem-connrt-$r" ||
                true
            stop_cluster
        done
        rm -f "$WORK"/payload-"$MEM_SIZE"-*
    done
fi
rm -f "$WORK/consumed.jsonl" "$WORK/last.out"

"$PYTHON3" "$HERE/summarize.py" "$RES" --connrt "$CONNRT" --kcat "$KCAT" \
    --settings "N=$N N_HIST=$N_HIST RUNS=$RUNS SIZES='$SIZES' MEM_NS='$MEM_NS' MEM_RUNS=$MEM_RUNS \
MEM_SIZE=$MEM_SIZE POLL_RECORDS=$POLL_RECORDS" \
    ${RESULTS:+--write "$RESULTS"}
