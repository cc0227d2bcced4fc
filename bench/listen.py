#!/usr/bin/env python3
"""bench/listen.py - the Listen benchmark of `make bench-listen` (run through
bench/listen.sh; see bench/README.md).

Throughput: N messages of 100 B are laid down on PARTS partitions of a
fresh `connrt embedded-cluster`, and a copy of them on as many again. A raw
librdkafka consumer (`rawbench consume -g`) reads the copy: its time runs
from its first message to its Nth. Then a listener (`<start
operation="listen"/>` and nothing else) is started on the original: its
time runs from its first message (the debug line it logs when it takes a
partition's first message) to the moment its group's committed offsets add
up to N, seen from outside by `listenwatch` (bench/listenwatch.c).

Latency: python3-kafka produces at a fixed rate while a listener runs;
`listenwatch -l` traces the group's committed offsets; a message's latency
runs from its CreateTime (stamped by the producer) to the first committed
offset past it (produce -> fetch -> execution -> commit acknowledged).

Writes one JSON row per measurement (WORK/results.json), prints the report
and optionally writes it as markdown (bench/LISTEN-RESULTS.md).
"""

import argparse
import datetime
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time

from machine_info import command_output, git_version, machine

VALUE_SIZE = 100
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
FIRST_RE = re.compile(r"first message at offset")
ASSIGNED_RE = re.compile(r"assigned (\d+) partition\(s\)")

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
  <process id="listen">
    <start operation="listen-op"/>
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
        """topics: [(name, partitions)]"""
        args = [connrt, "embedded-cluster"]
        for t, parts in topics:
            args += ["--topic", "%s:%d" % (t, parts)]
        self.err = open(os.path.join(work, "cluster.err"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        if not self.bootstrap:
            self.stop()
            raise BenchError("connrt embedded-cluster did not print its bootstrap list")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def watermarks(bootstrap, topic, parts):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(parts)]
        low, high = c.beginning_offsets(tps), c.end_offsets(tps)
        return [low[tp] for tp in tps], [high[tp] for tp in tps]
    finally:
        c.close()


def lay_dataset(args, cluster, topic, n, parts):
    """N messages of VALUE_SIZE on every partition alike (rawbench -p), then
    checks that the mock kept all of them."""
    out = subprocess.run([args.rawbench, "produce", "-b", cluster.bootstrap, "-t", topic,
                          "-n", str(n), "-s", str(VALUE_SIZE), "-p", str(parts)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise BenchError("rawbench produce failed: " + out.stderr.strip())
    low, high = watermarks(cluster.bootstrap, topic, parts)
    if any(low) or sum(high) != n or len(set(high)) != 1:
        raise BenchError("data set of %s: low %s high %s (the mock dropped batches: lower N)"
                         % (topic, low, high))
    return high


# ------------------------------------------------------------------ probes

def log_time(text):
    """Seconds since the epoch of a connrt JSON log time
    ("2026-12-01T09:33:28.608Z", UTC, milliseconds)."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def first_messages(logfile):
    """Times of the listener's "first message at offset" debug lines."""
    times = []
    with open(logfile) as f:
        for line in f:
            if FIRST_RE.search(line):
                times.append(log_time(json.loads(line)["time"]))
    return times


class Watcher:
    """`listenwatch`: polls a group's committed offsets every args.watch_us
    until they add up to n; with trace, records every move."""

    def __init__(self, args, cluster, group, topic, parts, n, trace=False):
        cmd = [args.listenwatch, "-b", cluster.bootstrap, "-g", group, "-t", topic,
               "-p", str(parts), "-n", str(n), "-i", str(args.watch_us)]
        if trace:
            cmd.append("-l")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(30):
            self.stop()
            raise BenchError("listenwatch not ready: " + self.proc.stderr.read()[-300:])

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("ready"):
                self.ready.set()
            else:
                self.lines.append(line.split())
        self.ready.set()

    def wait_done(self, timeout):
        """{"realtime", "polls", "cpu_s"} of the done line."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise BenchError("listenwatch: not all committed after %.0f s" % timeout)
        self.reader.join(10)
        done = [l for l in self.lines if l and l[0] == "done"]
        if rc != 0 or not done:
            raise BenchError("listenwatch exited %d: %s" % (rc, self.proc.stderr.read()[-300:]))
        return {k: float(v) for k, v in (kv.split("=") for kv in done[0][1:])}

    def commits(self):
        """[(realtime, partition, offset)] of every move seen."""
        out = []
        for l in self.lines:
            if l and l[0] == "commit":
                f = dict(kv.split("=") for kv in l[1:])
                out.append((float(f["realtime"]), int(f["partition"]), int(f["offset"])))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ------------------------------------------------------------------ listener

class Listener:
    """`connrt run` of a listen process; stderr is read by a thread."""

    def __init__(self, args, cluster, process, env):
        full = dict(os.environ)
        full.update({"BENCH_BOOTSTRAP": cluster.bootstrap})
        full.update(env)
        self.lines = []
        self.assigned = threading.Event()
        self.proc = subprocess.Popen(
            [args.connrt, "run", "--container", os.path.join(args.work, "container"),
             "--process", process], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env=full, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if ASSIGNED_RE.search(line):
                self.assigned.set()

    def wait_assigned(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.assigned.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("listener not assigned its partitions:\n  %s" %
                                 "\n  ".join(self.lines[-5:]))

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


def listener_env(args, group, topic, batch, batch_wait_ms, conc):
    return {"BENCH_TOPIC": topic, "BENCH_GROUP": group, "BENCH_BATCH": str(batch),
            "BENCH_BATCH_WAIT_MS": str(batch_wait_ms), "BENCH_CONC": str(conc)}


# ------------------------------------------------------------------ throughput

def cpu_seconds(pid):
    """User + system CPU seconds of a running process so far, all its
    threads (clock ticks: 10 ms)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def raw_consume(args, cluster, topic, n, group):
    cmd = [args.rawbench, "consume", "-b", cluster.bootstrap, "-t", topic, "-n", str(n),
           "-g", group]
    for x in FETCH_TUNING:
        cmd += ["-X", x]
    cpu0 = children_cpu()
    out = subprocess.run(cmd, capture_output=True, text=True)
    cpu = children_cpu() - cpu0
    m = re.search(r"n=(\d+) secs=([\d.]+) first_s=([-\d.]+)", out.stdout)
    if out.returncode != 0 or m is None or int(m.group(1)) != n:
        raise BenchError("rawbench consume failed: %s %s" % (out.stdout.strip(),
                                                           out.stderr.strip()[-300:]))
    secs, first = float(m.group(2)), float(m.group(3))
    # From the first message to the Nth: the group join, the offset
    # queries and the first fetch are left out, as in the listener's figure.
    return secs - first, cpu


def perf_attach(args, pid, name):
    if not args.perf_dir:
        return None
    os.makedirs(args.perf_dir, exist_ok=True)
    # cpu-clock: this VM has no hardware counters (the default `cycles`
    # records nothing). DWARF call graphs: the builds have no frame pointers.
    return subprocess.Popen(
        ["perf", "record", "-e", "cpu-clock", "--call-graph", "dwarf,16384", "-q", "-F", "999",
         "-p", str(pid),
         "-o", os.path.join(args.perf_dir, name)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def throughput_run(args, run, batch, conc, n, rows):
    """The raw consumer right before and right after the listener, each on
    its own copy of the data set: the listener is compared with the mean of
    the two, so that a change of the machine's load during the run shows
    as a spread between them rather than as a false ratio."""
    parts = args.partitions
    cluster = Cluster(args.connrt, args.work,
                      [("lsrc", parts), ("rsrc1", parts), ("rsrc2", parts)])
    try:
        for topic in ("lsrc", "rsrc1", "rsrc2"):
            lay_dataset(args, cluster, topic, n, parts)
        raw1 = raw_consume(args, cluster, "rsrc1", n, "raw1-%d" % run)
        group = "lst-%d-%d-%d" % (batch, conc, run)
        watch = Watcher(args, cluster, group, "lsrc", parts, n)
        perf = None
        try:
            lst = Listener(args, cluster, "listen",
                           listener_env(args, group, "lsrc", batch, args.batch_wait_ms, conc))
            try:
                lst.wait_assigned()
                # Attached once the listener's threads exist, before its first fetch.
                perf = perf_attach(args, lst.proc.pid, "perf-b%d-c%d-r%d.data" % (batch, conc,
                                                                                  run))
                done = watch.wait_done(args.timeout)
                cpu = cpu_seconds(lst.proc.pid)
            finally:
                if perf is not None:
                    perf.send_signal(signal.SIGINT)
                    perf.wait(60)
                summary = lst.stop()
        finally:
            watch.stop()
        raw2 = raw_consume(args, cluster, "rsrc2", n, "raw2-%d" % run)
    finally:
        cluster.stop()
    raw_secs = (raw1[0] + raw2[0]) / 2
    raw_cpu = (raw1[1] + raw2[1]) / 2
    if summary["documents"] != n or summary["success"] != n or summary["retried"]:
        raise BenchError("listener summary %s, %d documents expected" % (summary, n))
    firsts = first_messages(os.path.join(args.work, "container", "logs", "connrt.jsonl"))
    if len(firsts) != parts:
        raise BenchError("%d 'first message' lines in the listener's log, %d partitions"
                         % (len(firsts), parts))
    secs = done["realtime"] - min(firsts)
    row = {"kind": "throughput", "run": run, "batch": batch, "conc": conc, "n": n,
           "parts": parts, "secs": secs, "raw_secs": raw_secs, "raw_cpu": raw_cpu,
           "raw_before_secs": raw1[0], "raw_after_secs": raw2[0],
           "executions": summary["executions"], "cpu": cpu, "most": summary["most"],
           "watch_polls": done["polls"], "watch_cpu": done["cpu_s"]}
    rows.append(row)
    log("batch=%d conc=%d run=%d n=%d: listener %.3f s (%.0f/s, %d executions, at most %d at "
        "once, %.2f CPU s), raw %.3f s before, %.3f s after (%.0f/s, %.2f CPU s): %.3fx" % (
            batch, conc, run, n, secs, n / secs, row["executions"], row["most"], cpu,
            raw1[0], raw2[0], (n - 1) / raw_secs, raw_cpu, (n / secs) / ((n - 1) / raw_secs)))


# ------------------------------------------------------------------ latency

def produce_at_rate(bootstrap, topic, parts, rate, secs):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
    n = int(rate * secs)
    value = b"x" * VALUE_SIZE
    late = 0
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 0.01:
            late += 1
        p.send(topic, value=value, partition=i % parts)
    p.flush(60)
    elapsed = time.monotonic() - t0
    p.close()
    return n, n / elapsed, late


def create_times(bootstrap, topic, parts, n, timeout=60):
    """{(partition, offset): CreateTime ms} of the topic's n messages."""
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=2000)
    tps = [TopicPartition(topic, p) for p in range(parts)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = {}
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=500, max_records=10000).values():
            for r in recs:
                out[(r.partition, r.offset)] = r.timestamp
    c.close()
    return out


def commit_latencies(sent, commits):
    """Per message: seconds from its CreateTime to the first committed
    offset seen past it on its partition."""
    by_part = {}
    for t, p, off in sorted(commits):
        by_part.setdefault(p, []).append((off, t))
    lat = []
    for (p, off), ts in sent.items():
        moves = by_part.get(p, [])
        # First move whose committed offset is past this message (the list
        # is in time order, and committed offsets only grow).
        lo, hi = 0, len(moves)
        while lo < hi:
            mid = (lo + hi) // 2
            if moves[mid][0] > off:
                hi = mid
            else:
                lo = mid + 1
        if lo == len(moves):
            return None
        lat.append(moves[lo][1] - ts / 1000.0)
    return sorted(lat)


def pct(sorted_values, q):
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def latency_run(args, run, batch, conc, rows):
    parts = args.lat_partitions
    n = int(args.lat_rate * args.lat_secs)
    cluster = Cluster(args.connrt, args.work, [("src", parts)])
    try:
        group = "lat-%d-%d-%d" % (batch, conc, run)
        watch = Watcher(args, cluster, group, "src", parts, n, trace=True)
        try:
            lst = Listener(args, cluster, "listen", listener_env(
                args, group, "src", batch, args.lat_batch_wait_ms, conc))
            try:
                lst.wait_assigned()
                n, rate, late = produce_at_rate(cluster.bootstrap, "src", parts,
                                                args.lat_rate, args.lat_secs)
                watch.wait_done(args.timeout)
            finally:
                summary = lst.stop()
        finally:
            watch.stop()
        sent = create_times(cluster.bootstrap, "src", parts, n)
    finally:
        cluster.stop()
    if len(sent) != n or summary["documents"] != n or summary["retried"]:
        raise BenchError("latency run: %d sent, %d read back, summary %s"
                         % (n, len(sent), summary))
    lat = commit_latencies(sent, watch.commits())
    if lat is None:
        raise BenchError("latency run: a message without a commit past it")
    ms = [x * 1000 for x in lat]
    row = {"kind": "latency", "run": run, "batch": batch, "conc": conc, "n": n,
           "rate": rate, "late": late, "p50": pct(ms, 0.50), "p99": pct(ms, 0.99),
           "max": ms[-1], "executions": summary["executions"]}
    rows.append(row)
    log("latency batch=%d conc=%d run=%d: %d msgs at %.0f/s (%d sent late): p50 %.1f ms, "
        "p99 %.1f ms, max %.1f ms, %d executions" % (batch, conc, run, n, rate, late, row["p50"],
                                                     row["p99"], row["max"], row["executions"]))


# ------------------------------------------------------------------ report

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
    git = git_version(here)
    version = command_output([args.connrt, "--version"]).strip().split("\n")[0] or "connrt ?"
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
        version, git, command_output(["pkg-config", "--modversion", "rdkafka"]).strip() or "?",
        __import__("kafka").__version__))
    w("- Settings: RUNS=%d PARTS=%d BATCHES='%s' CONCS='%s' N='%s' batch_wait_ms=%d, "
      "listenwatch every %d µs; latency: LAT_BATCHES='%s' LAT_CONC=%d LAT_PARTS=%d, %d msg/s "
      "for %g s, batch_wait_ms=%d" % (
          args.runs, args.partitions, " ".join(map(str, args.batches)),
          " ".join(map(str, args.concs)),
          " ".join("%d:%d" % kv for kv in sorted(args.n.items())), args.batch_wait_ms,
          args.watch_us, " ".join(map(str, args.lat_batches)), args.lat_conc,
          args.lat_partitions, args.lat_rate, args.lat_secs, args.lat_batch_wait_ms))
    w("")
    w("## End-to-end throughput")
    w("")
    w("N messages of %d B laid down beforehand on %d partitions (the same share on each) of "
      "a fresh `connrt embedded-cluster` per measurement, and two copies on topics of as "
      "many partitions. Raw librdkafka: `rawbench consume -g` reads one copy right before "
      "the listener runs and the other right after, each from its first message to its Nth "
      "(no commit); the listener is compared with the mean of the two. connrt: `connrt run` of `<start operation=\"listen\"/>` alone (no output "
      "step; container `history.documents=errors`, `log.level=debug`), from its first "
      "message (the earliest of its per-partition \"first message at offset\" debug lines) "
      "to the first answer of `listenwatch` (an OffsetFetch every %d µs, from outside) in "
      "which the group's committed offsets add up to N: fetch, executions and commits. "
      "Both leave out the group join, the offset queries and the wait for the first fetch. "
      "CPU: user + system of the whole process (start-up and join included, both sides), "
      "per message." % (VALUE_SIZE, args.partitions, args.watch_us))
    w("")
    w("| batch_size | max_concurrent_executions | N | runs | listener msgs/s min / median / "
      "max | executions/s (median) | listener CPU µs/msg (median) | raw librdkafka msgs/s "
      "(median) | raw CPU µs/msg (median) | listener / raw, per run: median (min–max) |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    verdict = []
    for batch in args.batches:
        for conc in args.concs:
            rs = [r for r in rows if r["kind"] == "throughput" and r["batch"] == batch
                  and r["conc"] == conc]
            nfail = failures.get(("throughput", batch, conc), 0)
            if not rs:
                w("| %d | %d | %d | 0 (%d failed) | - | - | - | - | - | - |" % (
                    batch, conc, args.n[batch], nfail))
                continue
            rates = [r["n"] / r["secs"] for r in rs]
            raws = [(r["n"] - 1) / r["raw_secs"] for r in rs]
            ratios = [a / b for a, b in zip(rates, raws)]
            execs = [r["executions"] / r["secs"] for r in rs]
            med = statistics.median(ratios)
            cpus = [r["cpu"] * 1e6 / r["n"] for r in rs]
            raw_cpus = [r["raw_cpu"] * 1e6 / r["n"] for r in rs]
            w("| %d | %d | %s | %d%s | %s | %s | %.2f | %s | %.2f | **%.3f** (%.3f–%.3f) |" % (
                batch, conc, format(rs[0]["n"], ","), len(rs),
                " (%d failed)" % nfail if nfail else "", spread(rates, fmt_rate),
                fmt_rate(statistics.median(execs)), statistics.median(cpus),
                fmt_rate(statistics.median(raws)), statistics.median(raw_cpus),
                med, min(ratios), max(ratios)))
            if batch == TARGET_BATCH:
                verdict.append("- batch_size %d, max_concurrent_executions %d: %.3f× raw "
                               "librdkafka consume: %s (target ≥ %.1f×)" % (
                                   batch, conc, med,
                                   "meets the target" if med >= TARGET_RATIO
                                   else "**below the target**", TARGET_RATIO))
    w("")
    drift = [r["raw_after_secs"] / r["raw_before_secs"] for r in rows
             if r["kind"] == "throughput"]
    if drift:
        w("Raw librdkafka after / before the listener, time of the same work: median %.2f "
          "(min %.2f, max %.2f): how much the machine's load moved during the runs." % (
              statistics.median(drift), min(drift), max(drift)))
        w("")
    out.extend(verdict)
    w("")
    w("## Latency, produce to commit")
    w("")
    w("python3-kafka produces %d msg/s for %g s (%d B values, partition i %% %d, "
      "linger_ms=0, acks=1) to a topic while a listener (the same process, batch_size as "
      "below, batch_wait_ms=%d, max_concurrent_executions=%d) runs on it; `listenwatch -l` "
      "polls its group's committed offsets every %d µs. A message's latency runs from its "
      "CreateTime (stamped by python3-kafka at send(), milliseconds) to the first answer "
      "showing a committed offset past it: the producer's send, the broker, the listener's "
      "fetch, the batch filling, the execution and the commit until the cluster has it." % (
          args.lat_rate, args.lat_secs, VALUE_SIZE, args.lat_partitions,
          args.lat_batch_wait_ms, args.lat_conc, args.watch_us))
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
        ms = lambda v: "%.1f" % v
        w("| %d | %.0f/s | %d%s | %s | %s | %s |" % (
            batch, statistics.median(r["rate"] for r in rs), len(rs),
            " (%d failed)" % nfail if nfail else "", spread([r["p50"] for r in rs], ms),
            spread([r["p99"] for r in rs], ms), ms(statistics.median(r["max"] for r in rs))))
    w("")
    w("Absolute numbers move between runs and machines (the cluster, the clients and the "
      "listener share the cores); compare the ratios.")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connrt", required=True)
    ap.add_argument("--rawbench", required=True)
    ap.add_argument("--listenwatch", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=32)
    ap.add_argument("--batches", default="1 100 1000")
    ap.add_argument("--concs", default="1 4")
    ap.add_argument("--n", default="1:32000 100:960000 1000:960000",
                    help="BATCH:N pairs (N a multiple of PARTS x BATCH)")
    ap.add_argument("--batch-wait-ms", type=int, default=1000)
    ap.add_argument("--watch-us", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--lat-batches", default="1 100")
    ap.add_argument("--lat-conc", type=int, default=4)
    ap.add_argument("--lat-partitions", type=int, default=4)
    ap.add_argument("--lat-rate", type=int, default=2000)
    ap.add_argument("--lat-secs", type=float, default=10)
    ap.add_argument("--lat-batch-wait-ms", type=int, default=100)
    ap.add_argument("--perf-dir", help="perf record every throughput run's listener there")
    ap.add_argument("--write")
    args = ap.parse_args()
    args.batches = [int(x) for x in args.batches.split()]
    args.concs = [int(x) for x in args.concs.split()]
    args.lat_batches = [int(x) for x in args.lat_batches.split()]
    args.n = {int(k): int(v) for k, v in (kv.split(":") for kv in args.n.split())}
    for b in args.batches:
        n = args.n.get(b)
        if n is None or n % (args.partitions * b):
            sys.exit("bench-listen: N for batch_size %d must be given and a multiple of %d "
                     "(whole batches on every partition)" % (b, args.partitions * b))
        if n * (VALUE_SIZE + RECORD_OVERHEAD) / args.partitions > MOCK_PARTITION_BUDGET:
            sys.exit("bench-listen: N=%d for batch_size %d exceeds ~4 MiB per partition; the "
                     "mock cluster would drop messages (more PARTS or a lower N)" % (n, b))

    cdir = os.path.join(args.work, "container")
    os.makedirs(os.path.join(cdir, "deploy"), exist_ok=True)
    with open(os.path.join(cdir, "container.properties"), "w") as f:
        f.write("# Executions and failed documents only, as in `make bench`.\n"
                "history.documents = errors\n"
                "# The listener's \"first message at offset\" lines start the clock.\n"
                "log.level = debug\n")
    with open(os.path.join(cdir, "deploy", "listen.xml"), "w") as f:
        f.write(DEFS)

    rows, failures = [], {}

    def attempt(kind, batch, conc, fn, *a):
        try:
            # Every run starts with an empty history and log.
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
