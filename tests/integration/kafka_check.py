#!/usr/bin/env python3
"""Independent checks of a Kafka cluster with python3-kafka (a client that
shares no code with librdkafka), for the integration tests.

  kafka_check.py BOOTSTRAP committed GROUP TOPIC   -> {"0": 123, ...} (null: none)
  kafka_check.py BOOTSTRAP ends TOPIC              -> {"0": 5000, ...} high watermarks
  kafka_check.py BOOTSTRAP caught-up GROUP TOPIC   -> exit 0 when every partition's
                                                      committed offset is its high watermark
  kafka_check.py BOOTSTRAP read TOPIC              -> one JSON line per message:
                                                      partition, offset, key, value, headers
  kafka_check.py BOOTSTRAP produce TOPIC N [PREFIX] -> N keyed messages with headers
"""
import json
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition


def partitions(consumer, topic):
    return sorted(TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or [])


def ends(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        return {str(tp.partition): off for tp, off in c.end_offsets(partitions(c, topic)).items()}
    finally:
        c.close()


def committed(bootstrap, group, topic):
    out = {p: None for p in ends(bootstrap, topic)}
    # The mock cluster cannot list all of a group's offsets: name the partitions.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_consumer_group_offsets(
            group, partitions=[TopicPartition(topic, int(p)) for p in out])
    finally:
        admin.close()
    for tp, meta in offsets.items():
        if tp.topic == topic and meta.offset >= 0:
            out[str(tp.partition)] = meta.offset
    return out


def read(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      auto_offset_reset="earliest", consumer_timeout_ms=3000)
    tps = partitions(c, topic)
    c.assign(tps)
    c.seek_to_beginning(*tps)
    want = {tp.partition: off for tp, off in c.end_offsets(tps).items()}
    got = {p: 0 for p in want}
    for m in c:
        print(json.dumps({"partition": m.partition, "offset": m.offset,
                          "key": m.key.decode() if m.key is not None else None,
                          "value": m.value.decode(errors="replace"),
                          "headers": {k: v.decode() for k, v in m.headers}}))
        got[m.partition] = m.offset + 1
        if all(got[p] >= want[p] for p in want):
            break
    c.close()


def produce(bootstrap, topic, n, prefix):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(n):
        p.send(topic, key=("%s-key-%d" % (prefix, i % 97)).encode(),
               value=json.dumps({"n": i, "from": prefix}).encode(),
               headers=[("trace", ("%s-%d" % (prefix, i)).encode()), ("src", b"python3-kafka")])
    p.flush()
    p.close()


def main(argv):
    bootstrap, verb, args = argv[1], argv[2], argv[3:]
    if verb == "committed":
        print(json.dumps(committed(bootstrap, args[0], args[1])))
    elif verb == "ends":
        print(json.dumps(ends(bootstrap, args[0])))
    elif verb == "caught-up":
        have, want = committed(bootstrap, args[0], args[1]), ends(bootstrap, args[1])
        return 0 if all(have[p] == want[p] for p in want) else 1
    elif verb == "read":
        read(bootstrap, args[0])
    elif verb == "produce":
        produce(bootstrap, args[0], int(args[1]), args[2] if len(args) > 2 else "py")
    else:
        print("unknown verb %r" % verb, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
