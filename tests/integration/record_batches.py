#!/usr/bin/env python3
"""record_batches.py BOOTSTRAP TOPIC: print one line per record batch stored
in partition 0 of TOPIC, "CODEC COUNT", read with python3-kafka's raw Fetch
(an independent client: the codec is the one in the stored batch header,
not what the producer was told). Codecs need no decompression library."""
import sys
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.protocol.fetch import FetchRequest
from kafka.record import MemoryRecords

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
bootstrap, topic = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(bootstrap_servers=bootstrap)
client = consumer._client
deadline = time.time() + 20
leader = None
while leader is None or leader < 0:
    if time.time() > deadline:
        sys.exit("no leader for %s [0]" % topic)
    consumer.partitions_for_topic(topic)
    leader = client.cluster.leader_for_partition(TopicPartition(topic, 0))
while not client.ready(leader):
    if time.time() > deadline:
        sys.exit("broker %s not ready" % leader)
    client.poll(timeout_ms=100)
offset = 0
while True:
    request = FetchRequest[4](-1, 100, 1, 50 * 1024 * 1024, 0,
                              [(topic, [(0, offset, 50 * 1024 * 1024)])])
    future = client.send(leader, request)
    client.poll(future=future)
    (_, [(_, error, high, _, _, data)]) = future.value.topics[0]
    assert error == 0, error
    records = MemoryRecords(data)
    got = 0
    while True:
        batch = records.next_batch()
        if batch is None:
            break
        print(CODECS[batch.compression_type], batch.last_offset_delta + 1)
        offset = batch.base_offset + batch.last_offset_delta + 1
        got += 1
    if got == 0 or offset >= high:
        break
consumer.close()
