#!/usr/bin/env bash
# Consume with a prefetch far smaller than what it reads: librdkafka stops
# fetching whenever its queue is over queued.max.messages.kbytes, and 2.0
# looks again only when its broker thread next wakes up, up to a second
# later. Consume restarts the fetch once it has drained the queue
# (docs/decisions.md), so 3,000 messages read 16 KiB per fetch (~190
# refills) all come back within max_wait_ms; a fetcher left to wake by
# itself would return only the first few hundred when max_wait_ms passes
# (measured without the restart: one refill a second).
. "$(dirname "$0")/lib.sh"
need kcat

start_cluster --topic small:1
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
    <property name="librdkafka.queued.max.messages.kbytes">1</property>
  </connection>
  <operation id="read" connection="kafka" type="consume">
    <property name="topic">small</property>
    <property name="consumer_group">g-small</property>
    <property name="min_messages">3000</property>
    <property name="max_wait_ms">30000</property>
  </operation>
  <process id="read-all"><start operation="read"/><output/></process>
</connrt>
XML
# 3,000 values of 1,000 bytes (3 MB: the embedded cluster keeps ~5 MiB a
# partition) in batches of at most 16 KiB: the embedded cluster answers a
# fetch with one batch of the partition, so reading them takes ~190 fetches.
"$PYTHON3" -c 'import sys; [print("%04d" % i + "v" * 996) for i in range(3000)]' |
    kcat -P -b "$BOOTSTRAP" -t small -X batch.size=16384 -X linger.ms=1
run_connrt st run "$TMP/defs.xml" --process read-all --output "$TMP/read.jsonl"
check "small prefetch: exit 0" test "$st" -eq 0
check "small prefetch: all 3000 messages within max_wait_ms, in offset order, none twice" \
    test "$(jsonl "$TMP/read.jsonl" '[d["offset"] for d in docs] == list(range(3000)) and [d["value"][:4] for d in docs] == ["%04d" % i for i in range(3000)]')" = True
finish
