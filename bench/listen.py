#!/usr/bin/env python3
"""bench/listen.py - the Listen benchmark of `make bench-listen` (run through
bench/listen.sh; see bench/README.md).

Throughput: N messages of 100 B are laid down on 4 partitions of a fresh
`connrt embedded-cluster`; a listener (`<start operation="listen"/>` and
nothing else) is started, and the time from its "assigned 4 partition(s)"
log line to the moment its group's committed offsets equal the high
watermarks is its end-to-end time. A raw librdkafka consumer (`rawbench
consume -g`) reads the same N on the same cluster in the same run.

Latency: a listener that relays every message with a Produce step to
another topic; python3-kafka produces at a fixed rate; latency is the
relayed message's CreateTime minus the original's (both stamped on this
machine).

Writes one TSV row per measurement, prints the report and optionally
writes it as markdown (bench/LISTEN-RESULTS.md).
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

VALUE_SIZE = 100
PARTITIONS = 4
TARGET_BATCH = 1000
TARGET_RATIO = 0.8
# The mock cluster keeps ~5 MiB per partition and silently drops the oldest
# batches beyond it (measured: 100 B values take ~115 B each; 45,000 per
# partition is the most that stays). Data sets stay under ~4 MiB/partition.
MOCK_PARTITION_BUDGET = 4 * 1024 * 1024
RECORD_OVERHEAD = 20  # measured ~16 B per 100 B record in full batches
# Same fetch tuning for both consumers: queued.min.messages as in `make
# bench`; the session/heartbeat/fetch-wait values connrt's consumers take
# by default on the embedded cluster (operations/consumer.c), given to
# rawbench too so that both wait alike.
FETCH_TUNING = ["queued.min.messages=1000000", "fetch.wait.max.ms=10",
                "session.timeout.ms=3000", "heartbeat.interval.ms=1000"]

SUMMARY_RE = re.compile(
    r"listener (\S+): (\d+) executions \((\d+) failed and retried\), (\d+) documents: "
    r"(\d+) success, (\d+) application errors, (\d+) failures; at most (\d+) at once")

DEFS = """<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BENCH_BOOTSTRAP}</property>
    <property name="librdkafka.queued.min.messages">1000000</property>
  </connection>
  <operation id="listen-op" connection="kafka" type="listen">
    <property name="topic">${env:BENCH_TOPIC}</property>
    <property name="consumer_group">${env:BENCH_GROUP}</property>
    <property name="batch_size">${env:BENCH_BATCH}</property>
    <property name="batch_wait_ms">${env:BENCH_BATCH_WAIT_MS}</property>
    <property name="max_concurrent_executions">${env:BENCH_CONC}</property>
  </operation>
  <operation id="relay-send" connection="kafka" type="produce">
    <property name="topic">${env:BENCH_DST}</property>
    <property name="linger_ms">${env:BENCH_LINGER_MS}</property>
  </operation>
  <process id="listen">
    <start operation="listen-op"/>
  </process>
  <process id="relay">
    <start operation="listen-op"/>
    <set-properties>
      <property name="connector.kafka.topic" value="${env:BENCH_DST}"/>
    </set-properties>
    <connector operation="relay-send"/>
  </process>
</connrt>
"""


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ cluster

class Cluster:
    def __init__(self, connrt, work, topics):
        args = [connrt, "embedded-cluster"]
        for t in topics:
            args += ["--topic", "%s:%d" % (t, PARTITIONS)]
        self.err = open(os.path.join(work, "cluster.err"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        if not self.bootstrap:
            self.stop()
            raise BenchError("connrt embedded-cluster did not print its bootstrap list")
        self.admin = None

    def admin_client(self):
        if self.admin is None:
            from kafka import KafkaAdminClient
            self.admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        return self.admin

    def stop(self):
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def watermarks(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        low, high = c.beginning_offsets(tps), c.end_offsets(tps)
        return [low[tp] for tp in tps], [high[tp] for tp in tps]
    finally:
        c.close()


def lay_dataset(args, cluster, topic, n):
    """N messages of VALUE_SIZE on every partition alike (rawbench -p), then
    checks that the mock kept all of them."""
    out = subprocess.run([args.rawbench, "produce", "-b", cluster.bootstrap, "-t", topic,
                          "-n", str(n), "-s", str(VALUE_SIZE), "-p", str(PARTITIONS)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise BenchError("rawbench produce failed: " + out.stderr.strip())
    low, high = watermarks(cluster.bootstrap, topic)
    if any(low) or sum(high) != n:
        raise BenchError("data set of %s: low %s high %s (the mock dropped batches: lower N)"
                         % (topic, low, high))
    return high


# ------------------------------------------------------------------ listener

class Listener:
    """`connrt run` of a listen process; stderr is read by a thread that
    timestamps every line as it arrives."""

    def __init__(self, args, cluster, process, env):
        full = dict(os.environ)
        full.update({"BENCH_BOOTSTRAP": cluster.bootstrap})
        full.update(env)
        self.lines = []
        self.assigned = threading.Event()
        self.assigned_at = None
        self.proc = subprocess.Popen(
            [args.connrt, "run", "--container", os.path.join(args.work, "container"),
             "--process", process], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env=full, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            t = time.monotonic()
            self.lines.append(line.rstrip("\n"))
            if self.assigned_at is None and "assigned %d partition(s)" % PARTITIONS in line:
                self.assigned_at = t
                self.assigned.set()

    def wait_assigned(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.assigned.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("listener not assigned %d partitions:\n  %s" % (
                    PARTITIONS, "\n  ".join(self.lines[-5:])))
        return self.assigned_at

    def stop(self):
        """SIGTERM (drain), then the summary line as a dict."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        for line in self.lines:
            m = SUMMARY_RE.search(line)
            if m:
                keys = ("process", "executions", "retried", "documents", "success",
                        "app_errors", "failures", "most")
                s = dict(zip(keys, m.groups()))
                for k in keys[1:]:
                    s[k] = int(s[k])
                s["rc"] = rc
                return s
        raise BenchError("listener exited %s without a summary:\n  %s" % (
            rc, "\n  ".join(self.lines[-5:])))


def committed(cluster, group, topic):
    from kafka import TopicPartition
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    got = cluster.admin_client().list_consumer_group_offsets(group, partitions=tps)
    return [got[tp].offset if tp in got else -1 for tp in tps]


def wait_committed(cluster, group, topic, high, timeout, poll_s):
    """Polls the group's committed offsets until they equal `high`; returns
    the monotonic time of the first poll that saw them there."""
    deadline = time.monotonic() + timeout
    while True:
        offsets = committed(cluster, group, topic)
        t = time.monotonic()
        if offsets == high:
            return t
        if t > deadline:
            raise BenchError("committed %s after %.0f s, high watermarks %s"
                             % (offsets, timeout, high))
        time.sleep(poll_s)


# ------------------------------------------------------------------ throughput

def cpu_seconds(pid):
    """User + system CPU seconds of a running process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_consume(args, cluster, topic, n, group):
    cmd = [args.rawbench, "consume", "-b", cluster.bootstrap, "-t", topic, "-n", str(n),
           "-g", group]
    for x in FETCH_TUNING:
        cmd += ["-X", x]
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"n=(\d+) secs=([\d.]+) first_s=([-\d.]+)", out.stdout)
    if out.returncode != 0 or m is None or int(m.group(1)) != n:
        raise BenchError("rawbench consume failed: %s %s" % (out.stdout.strip(),
                                                           out.stderr.strip()[-300:]))
    secs, first = float(m.group(2)), float(m.group(3))
    # From the first message to the Nth: the group join and start-up are
    # left out, as the listener's figure starts at its assignment.
    return secs - first


def throughput_run(args, run, batch, conc, n, rows):
    cluster = Cluster(args.connrt, args.work, ["lsrc", "rsrc"])
    try:
        high = lay_dataset(args, cluster, "lsrc", n)
        lay_dataset(args, cluster, "rsrc", n)
        raw_secs = raw_consume(args, cluster, "rsrc", n, "raw-%d" % run)
        cluster.admin_client()  # connected before the clock starts
        group = "lst-%d-%d-%d" % (batch, conc, run)
        lst = Listener(args, cluster, "listen", {
            "BENCH_TOPIC": "lsrc", "BENCH_GROUP": group, "BENCH_BATCH": str(batch),
            "BENCH_BATCH_WAIT_MS": str(args.batch_wait_ms), "BENCH_CONC": str(conc),
            "BENCH_DST": "unused", "BENCH_LINGER_MS": "5"})
        perf = None
        if args.perf_dir:
            # Attached while the listener joins; stopped once all is committed.
            os.makedirs(args.perf_dir, exist_ok=True)
            perf = subprocess.Popen(
                ["perf", "record", "-g", "-q", "-F", "999", "-p", str(lst.proc.pid), "-o",
                 os.path.join(args.perf_dir, "perf-b%d-c%d-r%d.data" % (batch, conc, run))],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t0 = lst.wait_assigned()
            t1 = wait_committed(cluster, group, "lsrc", high, args.timeout, args.poll_s)
            cpu = cpu_seconds(lst.proc.pid)
        finally:
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                perf.wait(60)
            summary = lst.stop()
    finally:
        cluster.stop()
    if summary["documents"] != n or summary["success"] != n or summary["retried"]:
        raise BenchError("listener summary %s, %d documents expected" % (summary, n))
    row = {"kind": "throughput", "run": run, "batch": batch, "conc": conc, "n": n,
           "secs": t1 - t0, "raw_secs": raw_secs, "executions": summary["executions"],
           "cpu": cpu,
           "most": summary["most"]}
    rows.append(row)
    log("batch=%d conc=%d run=%d n=%d: listener %.3f s (%.0f/s, %d executions, at most %d at "
        "once, %.2f CPU s), raw %.3f s (%.0f/s): %.3fx" % (
            batch, conc, run, n, row["secs"], n / row["secs"], row["executions"], row["most"],
            cpu,
            raw_secs, (n - 1) / raw_secs, (n / row["secs"]) / ((n - 1) / raw_secs)))


# ------------------------------------------------------------------ latency

def value_of(seq):
    head = '{"seq":%d,"pad":"' % seq
    return (head + "x" * (VALUE_SIZE - len(head) - 2) + '"}').encode()


def produce_at_rate(bootstrap, topic, rate, secs):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
    n = int(rate * secs)
    late = 0
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 0.01:
            late += 1
        p.send(topic, value=value_of(i), partition=i % PARTITIONS)
    p.flush(60)
    elapsed = time.monotonic() - t0
    p.close()
    return n, n / elapsed, late


def read_all(bootstrap, topic, n, timeout=60):
    """{seq: CreateTime ms} of the topic's first n messages."""
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=2000)
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out, dup = {}, 0
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=500, max_records=10000).values():
            for r in recs:
                seq = json.loads(r.value)["seq"]
                if seq in out:
                    dup += 1
                out[seq] = r.timestamp
    c.close()
    return out, dup


def pct(sorted_values, q):
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def latency_run(args, run, batch, conc, rows):
    cluster = Cluster(args.connrt, args.work, ["src", "dst"])
    try:
        group = "relay-%d-%d-%d" % (batch, conc, run)
        lst = Listener(args, cluster, "relay", {
            "BENCH_TOPIC": "src", "BENCH_GROUP": group, "BENCH_BATCH": str(batch),
            "BENCH_BATCH_WAIT_MS": str(args.lat_batch_wait_ms), "BENCH_CONC": str(conc),
            "BENCH_DST": "dst", "BENCH_LINGER_MS": str(args.lat_linger_ms)})
        try:
            lst.wait_assigned()
            n, rate, late = produce_at_rate(cluster.bootstrap, "src", args.lat_rate,
                                            args.lat_secs)
            _, high = watermarks(cluster.bootstrap, "src")
            wait_committed(cluster, group, "src", high, args.timeout, 0.05)
        finally:
            summary = lst.stop()
        src, _ = read_all(cluster.bootstrap, "src", n)
        dst, dup = read_all(cluster.bootstrap, "dst", n)
    finally:
        cluster.stop()
    if len(src) != n or len(dst) != n or summary["retried"]:
        raise BenchError("latency run: %d sent, %d read back, %d relayed, summary %s"
                         % (n, len(src), len(dst), summary))
    lat = sorted(dst[s] - src[s] for s in src)
    row = {"kind": "latency", "run": run, "batch": batch, "conc": conc, "n": n,
           "rate": rate, "late": late, "p50": pct(lat, 0.50), "p99": pct(lat, 0.99),
           "max": lat[-1], "dup": dup, "executions": summary["executions"]}
    rows.append(row)
    log("latency batch=%d conc=%d run=%d: %d msgs at %.0f/s (%d sent late): p50 %d ms, "
        "p99 %d ms, max %d ms, %d executions" % (batch, conc, run, n, rate, late, row["p50"],
                                                 row["p99"], row["max"], row["executions"]))


# ------------------------------------------------------------------ report

def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d cores, %s, %s %s" % (os.cpu_count() or 0, model, platform.system(),
                                    platform.release())


def fmt_rate(x):
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.1f k" % (x / 1e3)
    return "%.0f" % x


def spread(values, fmt):
    if not values:
        return "-"
    return " / ".join(fmt(v) for v in (min(values), statistics.median(values), max(values)))


def report(args, rows, failures):
    here = os.path.dirname(os.path.abspath(__file__))
    git = command_output(["git", "-C", here, "describe", "--always", "--dirty"]) or "?"
    version = command_output([args.connrt, "--version"]).split("\n")[0] or "connrt ?"
    out = []
    w = out.append
    w("# connrt Listen benchmark results")
    w("")
    w("Generated by `make bench-listen` on %s. Regenerate with `make bench-listen` "
      "(see [README.md](README.md#listen-make-bench-listen))." %
      datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    w("")
    w("- Machine: %s" % machine())
    w("- %s (git %s); librdkafka %s, python3-kafka %s" % (
        version, git, command_output(["pkg-config", "--modversion", "rdkafka"]) or "?",
        __import__("kafka").__version__))
    w("- Settings: RUNS=%d BATCHES='%s' CONCS='%s' N='%s' batch_wait_ms=%d; latency: "
      "LAT_BATCHES='%s' LAT_CONC=%d, %d msg/s for %g s, relay linger_ms=%d, "
      "batch_wait_ms=%d" % (
          args.runs, " ".join(map(str, args.batches)), " ".join(map(str, args.concs)),
          " ".join("%d:%d" % kv for kv in sorted(args.n.items())), args.batch_wait_ms,
          " ".join(map(str, args.lat_batches)), args.lat_conc, args.lat_rate, args.lat_secs,
          args.lat_linger_ms, args.lat_batch_wait_ms))
    w("")
    w("## End-to-end throughput")
    w("")
    w("N messages of %d B laid down beforehand on %d partitions (the same share on each) of "
      "a fresh `connrt embedded-cluster` per measurement. connrt: `connrt run` of "
      "`<start operation=\"listen\"/>` alone (no output step), container "
      "`history.documents=errors`; time from its \"assigned %d partition(s)\" log line to "
      "the first poll (every %g ms, python3-kafka admin client) that sees the group's "
      "committed offsets equal to the high watermarks, so it includes the first fetch and "
      "the last commit. Its CPU time (user + system, from /proc, group join included) is "
      "taken at that moment. Raw librdkafka: `rawbench consume -g` on a copy of the data set in "
      "the same cluster, from its first message to its Nth (no commit). N stays under "
      "~4 MiB per partition: the mock drops older batches beyond ~5 MiB." % (
          VALUE_SIZE, PARTITIONS, PARTITIONS, args.poll_s * 1000))
    w("")
    w("| batch_size | max_concurrent_executions | N | runs | listener msgs/s min / median / "
      "max | executions/s (median) | listener CPU µs/msg (median) | raw librdkafka msgs/s "
      "(median) | listener / raw, per run: median (min–max) |")
    w("|---|---|---|---|---|---|---|---|---|")
    verdict = []
    for batch in args.batches:
        for conc in args.concs:
            rs = [r for r in rows if r["kind"] == "throughput" and r["batch"] == batch
                  and r["conc"] == conc]
            nfail = failures.get(("throughput", batch, conc), 0)
            if not rs:
                w("| %d | %d | %d | 0 (%d failed) | - | - | - | - | - |" % (
                    batch, conc, args.n[batch], nfail))
                continue
            rates = [r["n"] / r["secs"] for r in rs]
            raws = [(r["n"] - 1) / r["raw_secs"] for r in rs]
            ratios = [a / b for a, b in zip(rates, raws)]
            execs = [r["executions"] / r["secs"] for r in rs]
            med = statistics.median(ratios)
            cpus = [r["cpu"] * 1e6 / r["n"] for r in rs]
            w("| %d | %d | %s | %d%s | %s | %s | %.1f | %s | **%.3f** (%.3f–%.3f) |" % (
                batch, conc, format(rs[0]["n"], ","), len(rs),
                " (%d failed)" % nfail if nfail else "", spread(rates, fmt_rate),
                fmt_rate(statistics.median(execs)), statistics.median(cpus),
                fmt_rate(statistics.median(raws)),
                med, min(ratios), max(ratios)))
            if batch == TARGET_BATCH:
                verdict.append("- batch_size %d, max_concurrent_executions %d: %.3f× raw "
                               "librdkafka consume: %s (target ≥ %.1f×)" % (
                                   batch, conc, med,
                                   "meets the target" if med >= TARGET_RATIO
                                   else "**below the target**", TARGET_RATIO))
    w("")
    out.extend(verdict)
    w("")
    w("## Latency")
    w("")
    w("python3-kafka produces %d msg/s for %g s (partition i %% %d, linger_ms=0, acks=1) "
      "to `src`, while a listener (batch_size as below, batch_wait_ms=%d, "
      "max_concurrent_executions=%d) relays every message: `<start operation=\"listen\"/>` "
      "→ `<set-properties>` connector.kafka.topic=dst → Produce (linger_ms=%d, acks=all, "
      "idempotent). Latency = the relayed message's CreateTime (stamped by librdkafka when "
      "the Produce step hands it over) − the original's CreateTime (stamped by python3-kafka "
      "at send()), both on this machine, read back with python3-kafka. It covers the "
      "producer's send, the broker, the listener's fetch, batching and the execution up to "
      "the relay's produce call; the relay's delivery and the source offset commit follow "
      "(the commit asynchronously, right after the execution succeeded) and are not in it." % (
          args.lat_rate, args.lat_secs, PARTITIONS, args.lat_batch_wait_ms, args.lat_conc,
          args.lat_linger_ms))
    w("")
    w("| batch_size | rate sent (median) | runs | p50 ms min / median / max | p99 ms min / "
      "median / max | max ms (median) |")
    w("|---|---|---|---|---|---|")
    for batch in args.lat_batches:
        rs = [r for r in rows if r["kind"] == "latency" and r["batch"] == batch]
        nfail = failures.get(("latency", batch, args.lat_conc), 0)
        if not rs:
            w("| %d | - | 0 (%d failed) | - | - | - |" % (batch, nfail))
            continue
        ms = lambda v: "%.0f" % v
        w("| %d | %.0f/s | %d%s | %s | %s | %s |" % (
            batch, statistics.median(r["rate"] for r in rs), len(rs),
            " (%d failed)" % nfail if nfail else "", spread([r["p50"] for r in rs], ms),
            spread([r["p99"] for r in rs], ms), ms(statistics.median(r["max"] for r in rs))))
    w("")
    w("CreateTime has millisecond resolution. Absolute numbers move between runs and machines "
      "(the cluster, the client and the listener share the cores); compare the ratios.")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connrt", required=True)
    ap.add_argument("--rawbench", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batches", default="1 100 1000")
    ap.add_argument("--concs", default="1 4")
    ap.add_argument("--n", default="1:20000 100:120000 1000:120000",
                    help="BATCH:N pairs (N a multiple of 4 x BATCH)")
    ap.add_argument("--batch-wait-ms", type=int, default=1000)
    ap.add_argument("--poll-ms", type=float, default=2)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--lat-batches", default="1 100")
    ap.add_argument("--lat-conc", type=int, default=4)
    ap.add_argument("--lat-rate", type=int, default=2000)
    ap.add_argument("--lat-secs", type=float, default=10)
    ap.add_argument("--lat-linger-ms", type=int, default=0)
    ap.add_argument("--lat-batch-wait-ms", type=int, default=100)
    ap.add_argument("--perf-dir", help="perf record every throughput run's listener there")
    ap.add_argument("--write")
    args = ap.parse_args()
    args.batches = [int(x) for x in args.batches.split()]
    args.concs = [int(x) for x in args.concs.split()]
    args.lat_batches = [int(x) for x in args.lat_batches.split()]
    args.n = {int(k): int(v) for k, v in (kv.split(":") for kv in args.n.split())}
    args.poll_s = args.poll_ms / 1000
    for b in args.batches:
        n = args.n.get(b)
        if n is None or n % (PARTITIONS * b):
            sys.exit("bench-listen: N for batch_size %d must be given and a multiple of %d "
                     "(whole batches on every partition)" % (b, PARTITIONS * b))
        if n * (VALUE_SIZE + RECORD_OVERHEAD) / PARTITIONS > MOCK_PARTITION_BUDGET:
            sys.exit("bench-listen: N=%d for batch_size %d exceeds ~4 MiB per partition; the "
                     "mock cluster would drop messages" % (n, b))

    cdir = os.path.join(args.work, "container")
    os.makedirs(os.path.join(cdir, "deploy"), exist_ok=True)
    with open(os.path.join(cdir, "container.properties"), "w") as f:
        f.write("# Executions and failed documents only, as in `make bench`.\n"
                "history.documents = errors\n")
    with open(os.path.join(cdir, "deploy", "listen.xml"), "w") as f:
        f.write(DEFS)

    rows, failures = [], {}

    def attempt(kind, batch, conc, fn, *a):
        try:
            # Every run starts with an empty history.
            subprocess.run(["rm", "-rf", os.path.join(cdir, "data"), os.path.join(cdir, "logs")])
            fn(*a)
        except BenchError as e:
            log("FAILED %s batch=%d conc=%d: %s" % (kind, batch, conc, e))
            failures[(kind, batch, conc)] = failures.get((kind, batch, conc), 0) + 1

    for run in range(1, args.runs + 1):
        for batch in args.batches:
            for conc in args.concs:
                attempt("throughput", batch, conc, throughput_run, args, run, batch, conc,
                        args.n[batch], rows)
        for batch in args.lat_batches:
            attempt("latency", batch, args.lat_conc, latency_run, args, run, batch,
                    args.lat_conc, rows)
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    text = report(args, rows, failures)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
