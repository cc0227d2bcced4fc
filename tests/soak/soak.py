#!/usr/bin/env python3
"""tests/soak/soak.py - the fault soak of `make soak` (run through
tests/soak/run.sh; see tests/soak/README.md).

N documents with unique ids flow through a listener (`connrt serve` of a
container whose process relays each message to another topic with a
Produce step) while faults are injected every few seconds: all brokers
down then up, one broker down then up, request errors pushed into the
cluster (Fetch, OffsetCommit, Produce, Heartbeat; retriable codes and
_TRANSPORT disconnects), a round-trip-time spike, and SIGKILLs of the
listener followed by a restart. At the end it checks that every id was
relayed at least once, that the cluster really held every message (so
"nothing lost" is about connrt and not the mock cluster), that the
history accounts for every execution and passes integrity_check, and that
the listener's resident memory stayed flat. It prints a result table and
writes it as markdown.

The mock cluster keeps only ~5 MiB (and 100,000 record batches) per
partition and silently drops older batches beyond that. The soak stays
far below, and proves it did: small values (12 B), 16 partitions per
topic (each partition gets N/16 messages, ~1.4 MB for N = 1,000,000), a
feed at a fixed rate that also waits whenever the listener's lag grows
past --max-lag, feeder batches of ~100 ms, and at the end every
partition's low watermark must still be 0 on both topics.
"""

import argparse
import datetime
import logging
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from machine_info import git_version, machine  # noqa: E402

TOPIC_IN = "soak-in"
TOPIC_OUT = "soak-out"
GROUP = "soak"
BROKERS = 3
ID_FORMAT = "soak-%07d"  # 12-byte values: far below the mock's per-partition budget
RSS_TOLERANCE = 0.20

DEFS = """<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:SOAK_BOOTSTRAP}</property>
  </connection>
  <operation id="listen-in" connection="kafka" type="listen">
    <property name="topic">%(in)s</property>
    <property name="consumer_group">%(group)s</property>
    <property name="batch_size">500</property>
    <property name="batch_wait_ms">200</property>
    <property name="max_concurrent_executions">4</property>
    <property name="retry_backoff_ms">200</property>
  </operation>
  <!-- A short delivery timeout: an outage longer than it fails the
       documents in flight, so the failure-and-retry path is soaked too -->
  <operation id="send-out" connection="kafka" type="produce">
    <property name="topic">%(out)s</property>
    <property name="message_timeout_ms">2000</property>
  </operation>
  <process id="relay">
    <start operation="listen-in"/>
    <!-- Listen stamps connector.kafka.topic with the source topic -->
    <set-properties><property name="connector.kafka.topic" value="%(out)s"/></set-properties>
    <connector operation="send-out"/>
  </process>
</connrt>
""" % {"in": TOPIC_IN, "out": TOPIC_OUT, "group": GROUP}

CONTAINER_PROPERTIES = """# written by tests/soak/soak.py
execution.max.concurrent=4
shutdown.timeout.ms=60000
# The executions and the documents that did not succeed (a full record of
# 1,000,000 relayed documents would be ~1 GB of history).
history.documents=errors
log.level=info
"""


class SoakError(Exception):
    pass


T0 = time.monotonic()
# librdkafka's own log lines of the feeder and checker clients (connection
# refused during outages...) go to WORK/clients.log, not the terminal.
CLIENT_LOG = logging.getLogger("soak-clients")
CLIENT_LOG.propagate = False


def stamp():
    now = datetime.datetime.now()
    return "%s +%7.1fs" % (now.strftime("%H:%M:%S.%f")[:-3], time.monotonic() - T0)


def log(msg):
    print("%s  %s" % (stamp(), msg), file=sys.stderr, flush=True)


# ------------------------------------------------------------------ cluster

class Cluster:
    """`connrt embedded-cluster`, its fault commands on stdin."""

    def __init__(self, connrt, work, partitions):
        args = [connrt, "embedded-cluster", "--brokers", str(BROKERS),
                "--topic", "%s:%d" % (TOPIC_IN, partitions),
                "--topic", "%s:%d" % (TOPIC_OUT, partitions)]
        self.err = open(os.path.join(work, "cluster.err"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, bufsize=1)
        self.bootstrap = self.proc.stdout.readline().strip()
        self.lock = threading.Lock()
        if not self.bootstrap:
            self.stop()
            raise SoakError("connrt embedded-cluster did not print its bootstrap list")

    def cmd(self, line):
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline().strip()
        if reply != "ok":
            raise SoakError("cluster command %r answered %r" % (line, reply))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


# ------------------------------------------------------------------ listener

def read_proc(pid):
    """(VmRSS kB, CPU seconds) of a running process, None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, IndexError, ValueError):
        return None


class Incarnation:
    def __init__(self, number, proc, err_path):
        self.number = number
        self.proc = proc
        self.err_path = err_path
        self.started = time.monotonic()
        self.ended = None
        self.rss = []  # (seconds since start, kB), one a second
        self.cpu = 0.0
        self.how = "running"
        self.status = None


class Listener:
    """`connrt serve CONTAINER` started again after each SIGKILL; a thread
    samples the running one's VmRSS every second."""

    def __init__(self, connrt, container, bootstrap, work):
        self.connrt, self.container, self.work = connrt, container, work
        self.env = dict(os.environ, SOAK_BOOTSTRAP=bootstrap)
        self.incarnations = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self):
        n = len(self.incarnations) + 1
        err = os.path.join(self.work, "listener-%d.err" % n)
        with open(err, "w") as f:
            proc = subprocess.Popen([self.connrt, "serve", self.container],
                                    stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=self.env)
        with self.lock:
            self.incarnations.append(Incarnation(n, proc, err))
        if not self.sampler.is_alive():
            self.sampler.start()
        log("listener %d started (pid %d)" % (n, proc.pid))

    def current(self):
        with self.lock:
            return self.incarnations[-1]

    def _sample(self):
        next_at = time.monotonic()
        while not self.done.is_set():
            inc = self.current()
            got = read_proc(inc.proc.pid) if inc.proc.poll() is None else None
            if got is not None:
                inc.rss.append((time.monotonic() - inc.started, got[0]))
                inc.cpu = got[1]
            next_at += 1.0
            self.done.wait(max(0.0, next_at - time.monotonic()))

    def alive(self):
        return self.current().proc.poll() is None

    def kill(self):
        inc = self.current()
        got = read_proc(inc.proc.pid)
        if got is not None:
            inc.cpu = got[1]
        inc.proc.send_signal(signal.SIGKILL)
        inc.status = inc.proc.wait()
        inc.ended, inc.how = time.monotonic(), "SIGKILL"

    def terminate(self, timeout):
        inc = self.current()
        got = read_proc(inc.proc.pid)
        if got is not None:
            inc.cpu = got[1]
        inc.proc.send_signal(signal.SIGTERM)
        try:
            inc.status = inc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            inc.proc.kill()
            inc.status = inc.proc.wait()
            inc.how = "SIGTERM (drain timed out: killed)"
        else:
            inc.how = "SIGTERM"
        inc.ended = time.monotonic()
        self.done.set()
        return inc.status

    def stop_all(self):
        self.done.set()
        for inc in self.incarnations:
            if inc.proc.poll() is None:
                inc.proc.kill()
                inc.proc.wait()


# ------------------------------------------------------------------ feed and lag

class LagMonitor(threading.Thread):
    """The group's committed offsets once a second, read with a client that
    never joins the group (no subscribe)."""

    def __init__(self, bootstrap, partitions):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer, TopicPartition
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                                  "enable.auto.commit": False, "logger": CLIENT_LOG})
        self.tps = [TopicPartition(TOPIC_IN, p) for p in range(partitions)]
        self.committed = [0] * partitions
        self.advanced = []  # whether each poll saw the total grow
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.stopped.wait(1.0):
            self.poll_once()

    def poll_once(self):
        from confluent_kafka import KafkaException
        try:
            got = self.consumer.committed(self.tps, timeout=5)
        except KafkaException:
            return  # brokers down: keep the last known offsets
        with self.lock:
            before = sum(self.committed)
            for tp in got:
                if tp.error is None and tp.offset >= 0:
                    self.committed[tp.partition] = tp.offset
            self.advanced = (self.advanced + [sum(self.committed) > before])[-2:]

    def total(self):
        with self.lock:
            return sum(self.committed)

    def offsets(self):
        with self.lock:
            return list(self.committed)

    def flowing(self):
        """The listener committed more in each of the last two polls."""
        with self.lock:
            return self.advanced == [True, True]

    def stop(self):
        self.stopped.set()
        self.join(10)
        self.consumer.close()


class Feeder(threading.Thread):
    """Produces ids 0..N-1 to TOPIC_IN, id i on partition i % partitions, at
    `rate` per second; holds back while the listener's lag (acknowledged
    minus committed) exceeds max_lag. Idempotent, infinite delivery timeout:
    every id reaches the input (the soak stops as invalid otherwise); the
    mock may still store a batch twice across an outage (counted)."""

    def __init__(self, bootstrap, n, rate, partitions, max_lag, lag):
        super().__init__(daemon=True)
        from confluent_kafka import Producer
        self.n, self.rate, self.partitions, self.max_lag, self.lag = (
            n, rate, partitions, max_lag, lag)
        self.acked = 0
        self.failed = []
        self.fatal = None
        self.held_s = 0.0
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                  "acks": "all", "linger.ms": 100, "message.timeout.ms": 0,
                                  "error_cb": self._error, "logger": CLIENT_LOG})
        self.stopped = threading.Event()

    def _error(self, err):
        if err.fatal():
            self.fatal = str(err)

    def _delivered(self, err, msg):
        if err is not None:
            self.failed.append(str(err))
        else:
            self.acked += 1

    def run(self):
        sent, start, tick = 0, time.monotonic(), 0.05
        while sent < self.n and not self.stopped.is_set() and self.fatal is None:
            self.producer.poll(0)
            if self.acked - self.lag.total() > self.max_lag:
                held = time.monotonic()
                self.stopped.wait(tick)
                start += time.monotonic() - held  # no burst after a hold
                self.held_s += time.monotonic() - held
                continue
            due = min(self.n, int((time.monotonic() - start) * self.rate))
            while sent < due:
                try:
                    self.producer.produce(TOPIC_IN, (ID_FORMAT % sent).encode(),
                                          partition=sent % self.partitions,
                                          on_delivery=self._delivered)
                except BufferError:
                    self.producer.poll(0.1)
                    continue
                sent += 1
            self.stopped.wait(tick)
        while self.acked + len(self.failed) < sent and self.fatal is None \
                and not self.stopped.is_set():
            self.producer.poll(0.1)
        self.producer.flush(30)

    def progress(self):
        return self.acked / self.n


# ------------------------------------------------------------------ faults

class Injector:
    """One fault every `interval` seconds, cycling through FAULTS; at the
    planned fractions of the feed, a SIGKILL of the listener and a restart
    takes the slot instead."""

    FAULTS = [
        ("brokers down", "all"),
        ("request errors", "Fetch 20 NOT_LEADER_FOR_PARTITION"),
        ("request errors", "OffsetCommit 5 COORDINATOR_NOT_AVAILABLE"),
        ("rtt spike", "500"),
        ("request errors", "Produce 10 NOT_ENOUGH_REPLICAS"),
        ("broker down", "2"),
        ("request errors", "Fetch 3 _TRANSPORT"),
        ("request errors", "OffsetCommit 3 _TRANSPORT"),
        ("request errors", "Produce 3 _TRANSPORT"),
        ("request errors", "Heartbeat 1 REBALANCE_IN_PROGRESS"),
        ("request errors", "Produce 10 REQUEST_TIMED_OUT"),
        ("request errors", "OffsetCommit 5 NOT_COORDINATOR"),
        ("request errors", "Fetch 20 REPLICA_NOT_AVAILABLE"),
    ]
    # Other faults between two SIGKILLs, so that each restarted listener
    # also meets outages and errors.
    KILL_SPACING = 3

    def __init__(self, cluster, listener, feeder, lag, interval, outage_s, kill_at, log_path):
        self.cluster, self.listener, self.feeder, self.lag = cluster, listener, feeder, lag
        self.interval, self.outage_s = interval, outage_s
        self.kill_at = list(kill_at)
        self.log = open(log_path, "w")
        self.counts = {}
        self.next = 0
        self.since_kill = self.KILL_SPACING
        self.kills = 0

    def record(self, kind, detail):
        self.counts[kind] = self.counts.get(kind, 0) + 1
        line = "%s  %-23s %s (feed %.1f%%)" % (stamp(), kind, detail,
                                               100 * self.feeder.progress())
        self.log.write(line + "\n")
        self.log.flush()
        log("fault: %s %s" % (kind, detail))

    def hold(self, seconds):
        """The fault's length is part of the scenario, not a synchronisation."""
        time.sleep(seconds)

    def kill_due(self):
        return self.kill_at and self.feeder.progress() >= self.kill_at[0] \
            and self.since_kill > self.KILL_SPACING

    def one(self):
        self.since_kill += 1
        if self.kill_due():
            # Kill it while it works (not while it is still rejoining the
            # group after the previous fault), up to one more interval.
            deadline = time.monotonic() + self.interval
            while not self.lag.flowing() and time.monotonic() < deadline:
                time.sleep(0.1)
            self.kill_at.pop(0)
            self.since_kill = 0
            self.kills += 1
            number = self.listener.current().number
            if self.kills % 2 == 0:
                # Every second kill lands while executions are in flight:
                # a 200 ms round trip keeps each Produce step waiting.
                self.record("SIGKILL", "listener %d mid-execution (RTT 200 ms for 1 s before), "
                            "restarted" % number)
                self.cluster.cmd("rtt all 200")
                self.hold(1.0)
                self.listener.kill()
                self.cluster.cmd("rtt all 0")
            else:
                self.record("SIGKILL", "listener %d, restarted" % number)
                self.listener.kill()
            self.listener.start()
            return
        kind, arg = self.FAULTS[self.next % len(self.FAULTS)]
        self.next += 1
        if kind in ("brokers down", "broker down"):
            self.record(kind, "broker %s for %.0f s" % (arg, self.outage_s))
            self.cluster.cmd("broker down " + arg)
            self.hold(self.outage_s)
            self.cluster.cmd("broker up " + arg)
        elif kind == "rtt spike":
            self.record(kind, "%s ms on all brokers for %.0f s" % (arg, self.outage_s))
            self.cluster.cmd("rtt all " + arg)
            self.hold(self.outage_s)
            self.cluster.cmd("rtt all 0")
        else:
            api, _, code = arg.split()
            self.record("%s %s" % (api, "_TRANSPORT" if code == "_TRANSPORT" else "errors"), arg)
            self.cluster.cmd("error " + arg)

    def run_until(self, done):
        next_at = time.monotonic() + self.interval
        while not done():
            if not self.listener.alive():
                raise SoakError("listener %d exited on its own (status %s): see %s" % (
                    self.listener.current().number, self.listener.current().proc.poll(),
                    self.listener.current().err_path))
            if time.monotonic() >= next_at:
                self.one()
                next_at = time.monotonic() + self.interval
            time.sleep(0.2)
        self.log.close()


# ------------------------------------------------------------------ checks

def watermarks(bootstrap, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "soak-check",
                  "logger": CLIENT_LOG})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                for p in range(partitions)]
    finally:
        c.close()


def read_ids(kcat, bootstrap, topic, path):
    """Every value on `topic`, read with kcat from the beginning to the end."""
    with open(path, "w") as f:
        st = subprocess.run([kcat, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning",
                             "-e", "-q", "-f", "%s\\n"], stdout=f, stderr=subprocess.PIPE,
                            text=True, timeout=600)
    if st.returncode != 0:
        raise SoakError("kcat could not read %s: %s" % (topic, st.stderr.strip()))
    counts = {}
    with open(path) as f:
        for line in f:
            v = line.rstrip("\n")
            counts[v] = counts.get(v, 0) + 1
    return counts


def history_report(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        r = {"integrity": con.execute("PRAGMA integrity_check").fetchone()[0]}
        r["by_status"] = dict(con.execute(
            "SELECT status, count(*) FROM executions GROUP BY status").fetchall())
        r["unbalanced"] = con.execute(
            "SELECT count(*) FROM executions WHERE documents != success + application_errors"
            " + failures").fetchone()[0]
        r["success_docs"] = con.execute(
            "SELECT coalesce(sum(success), 0) FROM executions WHERE status = 'success'"
        ).fetchone()[0]
        r["interrupted"] = con.execute(
            "SELECT count(*) FROM executions WHERE error LIKE 'interrupted:%'").fetchone()[0]
        # An execution's own error, else the error of its documents that did
        # not succeed (history.documents=errors keeps those).
        r["errors"] = con.execute(
            "SELECT substr(coalesce(x.error, (SELECT d.error FROM documents d WHERE"
            " d.execution_id = x.id AND d.outcome != 'success' LIMIT 1), '?'), 1, 120) AS why,"
            " count(*) FROM executions x WHERE x.status != 'success' GROUP BY why"
            " ORDER BY 2 DESC LIMIT 8").fetchall()
        return r
    finally:
        con.close()


def rss_verdict(inc):
    """Median RSS of the second quarter against the last quarter."""
    samples = [kb for _, kb in inc.rss]
    q = len(samples) // 4
    if q < 5:
        return None
    second, last = statistics.median(samples[q:2 * q]), statistics.median(samples[3 * q:])
    return second, last, (last - second) / second


def scan_stderr(incarnations):
    bad = []
    for inc in incarnations:
        with open(inc.err_path, errors="replace") as f:
            for line in f:
                if any(s in line for s in ("internal error", "AddressSanitizer",
                                           "LeakSanitizer", "runtime error:",
                                           "out of memory", "left unrun")):
                    bad.append("listener %d: %s" % (inc.number, line.strip()))
    return bad


def count_lines(incarnations, needle):
    n = 0
    for inc in incarnations:
        with open(inc.err_path, errors="replace") as f:
            n += sum(needle in line for line in f)
    return n


# ------------------------------------------------------------------ report

def mib(kb):
    return "%.1f MiB" % (kb / 1024)


def report(a, r):
    inc_rows = []
    for inc in r["incarnations"]:
        s = [kb for _, kb in inc.rss]
        inc_rows.append("| %d | %.0f s | %s | %s | %s | %s | %.1f s |" % (
            inc.number, (inc.ended or time.monotonic()) - inc.started,
            mib(s[0]) if s else "-", mib(max(s)) if s else "-", mib(s[-1]) if s else "-",
            inc.how + ("" if inc.status is None else " (exit %d)" % inc.status), inc.cpu))
    h = r["history"]
    verdict = r["rss"]
    longest = r["longest"]
    faults = ", ".join("%s %d" % (k, v) for k, v in sorted(r["faults"].items()))
    lines = [
        "# connrt fault soak",
        "",
        "Generated by `make soak` on %s. Regenerate with `make soak` (see "
        "[README.md](README.md)); `make soak N=50000 FEED_SECONDS=60` is the quick run." % (
            r["date"]),
        "",
        "- Machine: %s" % machine(),
        "- connrt %s; %s" % (r["version"], r["libs"]),
        "- Settings: N=%d, %d partitions per topic, %d brokers, feed %.0f msg/s for %.0f s, "
        "lag held under %d, a fault every %.0f s (outages and RTT spikes %.0f s), SIGKILLs at "
        "%s of the feed" % (a.n, a.partitions, BROKERS, a.n / a.feed_seconds, a.feed_seconds,
                            a.max_lag, a.fault_interval, a.outage_seconds,
                            ", ".join("%d%%" % round(100 * k) for k in a.kill_at) or "none"),
        "",
        "`connrt serve` of a container whose listener (batch_size 500, batch_wait_ms 200, "
        "4 executions at once, retry_backoff_ms 200) relays every message of `%s` to `%s` "
        "through a Produce step (acks=all, idempotent); history.documents=errors. A "
        "message counts as processed when its id is on `%s`." % (TOPIC_IN, TOPIC_OUT, TOPIC_OUT),
        "",
        "| result | value |",
        "|---|---|",
        "| **verdict** | **%s** |" % ("PASS" if not r["problems"] else "FAIL"),
        "| documents fed (distinct ids on `%s`) | %d of %d (%d messages: %d stored twice by "
        "the mock cluster across an outage) |" % (TOPIC_IN, r["in_distinct"], a.n,
                                                 r["in_total"], r["feed_duplicates"]),
        "| documents processed (distinct ids on `%s`) | %d |" % (TOPIC_OUT, r["out_distinct"]),
        "| missing | %d |" % r["missing"],
        "| duplicates (relayed more than once) | %d (%.2f%%) |" % (
            r["duplicates"], 100.0 * r["duplicates"] / max(1, a.n)),
        "| mock cluster kept everything (low watermarks 0) | %s |" % r["kept"],
        "| faults injected | %d: %s |" % (sum(r["faults"].values()), faults),
        "| listener restarts (after SIGKILL) | %d |" % r["restarts"],
        "| duration | %.0f s (feed %.0f s, held back %.0f s for lag; catch-up %.0f s) |" % (
            r["duration"], r["feed_s"], r["held_s"], r["catchup_s"]),
        "| executions in history | %s |" % ", ".join(
            "%s %d" % kv for kv in sorted(h["by_status"].items())),
        "| executions closed as interrupted (SIGKILL) | %d |" % h["interrupted"],
        "| executions failed and retried (listeners' logs) | %d |" % r["retried"],
        "| documents with success in history | %d |" % h["success_docs"],
        "| history integrity_check | %s |" % h["integrity"],
        "| final drain (SIGTERM) | exit %s |" % r["final_status"],
        "| RSS of the longest run (listener %d, %.0f s): first / peak / last | %s / %s / %s |" % (
            longest.number, (longest.ended or 0) - longest.started,
            mib(longest.rss[0][1]), mib(max(kb for _, kb in longest.rss)),
            mib(longest.rss[-1][1])),
        "| RSS flat: median of 2nd quarter vs last quarter | %s |" % (
            "%s vs %s (%+.1f%%, limit ±%d%%)" % (mib(verdict[0]), mib(verdict[1]),
                                                 100 * verdict[2], 100 * RSS_TOLERANCE)
            if verdict else "too few samples"),
        "",
        "Per listener run (VmRSS sampled every second):",
        "",
        "| run | lasted | RSS first | RSS peak | RSS last | ended by | CPU |",
        "|---|---|---|---|---|---|---|",
    ] + inc_rows
    if h["errors"]:
        lines += ["", "Why executions did not succeed (history, top reasons):", "",
                  "| executions | error |", "|---|---|"]
        lines += ["| %d | %s |" % (c, e.replace("|", "\\|")) for e, c in h["errors"]]
    if r["problems"]:
        lines += ["", "Problems:", ""] + ["- " + p for p in r["problems"]]
    lines += ["", "The work directory keeps faults.log (one line per fault, with its time and "
              "the feed's progress), each listener's stderr and the container."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connrt", required=True)
    ap.add_argument("--kcat", default="kcat")
    ap.add_argument("--work", required=True)
    ap.add_argument("--top", default=".")
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--feed-seconds", type=float, default=420)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--max-lag", type=int, default=50000)
    ap.add_argument("--fault-interval", type=float, default=5)
    ap.add_argument("--outage-seconds", type=float, default=3)
    ap.add_argument("--kill-at", default="0.1,0.25,0.4,0.55")
    ap.add_argument("--catchup-timeout", type=float, default=600)
    ap.add_argument("--write", help="also write the markdown report here")
    a = ap.parse_args(argv)
    a.kill_at = [] if a.kill_at == "none" else [float(x) for x in a.kill_at.split(",")]
    return a


def setup_container(work):
    c = os.path.join(work, "container")
    os.makedirs(os.path.join(c, "deploy"))
    with open(os.path.join(c, "deploy", "soak.xml"), "w") as f:
        f.write(DEFS)
    with open(os.path.join(c, "container.properties"), "w") as f:
        f.write(CONTAINER_PROPERTIES)
    return c


def soak(a):
    import confluent_kafka
    r = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
         "version": git_version(a.top), "problems": [],
         "libs": "librdkafka %s, python3-confluent-kafka %s, kcat" % (
             confluent_kafka.libversion()[0], confluent_kafka.version()[0])}
    if os.path.exists(a.work) and os.listdir(a.work):
        raise SoakError("work directory %s is not empty" % a.work)
    os.makedirs(a.work, exist_ok=True)
    handler = logging.FileHandler(os.path.join(a.work, "clients.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    CLIENT_LOG.addHandler(handler)
    CLIENT_LOG.setLevel(logging.INFO)
    container = setup_container(a.work)
    cluster = Cluster(a.connrt, a.work, a.partitions)
    listener = lag = feeder = None
    try:
        log("embedded cluster at %s; work directory %s" % (cluster.bootstrap, a.work))
        listener = Listener(a.connrt, container, cluster.bootstrap, a.work)
        listener.start()
        lag = LagMonitor(cluster.bootstrap, a.partitions)
        lag.start()
        feeder = Feeder(cluster.bootstrap, a.n, a.n / a.feed_seconds, a.partitions,
                        a.max_lag, lag)
        started = time.monotonic()
        feeder.start()
        injector = Injector(cluster, listener, feeder, lag, a.fault_interval, a.outage_seconds,
                            a.kill_at, os.path.join(a.work, "faults.log"))
        injector.run_until(lambda: not feeder.is_alive())
        r["feed_s"] = time.monotonic() - started
        r["held_s"] = feeder.held_s
        if feeder.fatal or feeder.failed or feeder.acked != a.n:
            raise SoakError("the feed itself failed (not connrt): acked %d of %d, %s" % (
                feeder.acked, a.n, feeder.fatal or (feeder.failed[:3] or "stopped")))
        log("feed done: %d acknowledged in %.0f s; waiting for the listener to catch up" % (
            feeder.acked, r["feed_s"]))
        cluster.cmd("broker up all")
        cluster.cmd("rtt all 0")
        catchup = time.monotonic()
        ends = [hi for _, hi in watermarks(cluster.bootstrap, TOPIC_IN, a.partitions)]
        while any(c < e for c, e in zip(lag.offsets(), ends)):
            if not listener.alive():
                raise SoakError("listener exited during catch-up: see %s" %
                                listener.current().err_path)
            if time.monotonic() - catchup > a.catchup_timeout:
                raise SoakError("listener did not catch up within %.0f s: committed %d of %d"
                                % (a.catchup_timeout, lag.total(), sum(ends)))
            time.sleep(0.5)
        r["catchup_s"] = time.monotonic() - catchup
        r["final_status"] = listener.terminate(90)
        r["duration"] = time.monotonic() - started
        log("caught up in %.0f s; listener drained with exit %s" % (r["catchup_s"],
                                                                     r["final_status"]))
        lag.stop()
        lag = None
        r["faults"] = injector.counts
        check(a, cluster, listener, r)
    finally:
        if lag is not None:
            lag.stop()
        if feeder is not None:
            feeder.stopped.set()
        if listener is not None:
            listener.stop_all()
        cluster.stop()
    return r


def check(a, cluster, listener, r):
    problems = r["problems"]
    incs = listener.incarnations
    r["incarnations"] = incs
    r["restarts"] = len(incs) - 1
    if r["final_status"] != 0:
        problems.append("the last listener's drain exited %s (expected 0)" % r["final_status"])
    # What the cluster holds: everything fed, nothing dropped by the mock.
    wm_in = watermarks(cluster.bootstrap, TOPIC_IN, a.partitions)
    wm_out = watermarks(cluster.bootstrap, TOPIC_OUT, a.partitions)
    r["kept"] = "yes" if all(lo == 0 for lo, _ in wm_in + wm_out) else "NO: %s / %s" % (
        wm_in, wm_out)
    if r["kept"] != "yes":
        problems.append("the mock cluster dropped batches (low watermarks): the soak is "
                        "invalid, lower N or raise --partitions")
    ids_in = read_ids(a.kcat, cluster.bootstrap, TOPIC_IN, os.path.join(a.work, "in.txt"))
    ids_out = read_ids(a.kcat, cluster.bootstrap, TOPIC_OUT, os.path.join(a.work, "out.txt"))
    want = {ID_FORMAT % i for i in range(a.n)}
    r["in_distinct"] = len(want & ids_in.keys())
    r["in_total"] = sum(ids_in.values())
    # The feeder is idempotent, yet the mock cluster can store a batch twice
    # when an outage cuts the connection after it appended the batch and
    # before the client read the answer: counted, not a connrt fault.
    r["feed_duplicates"] = r["in_total"] - r["in_distinct"]
    if r["in_distinct"] != a.n or len(ids_in) != a.n:
        problems.append("%s does not hold every id (%d of %d, %d distinct values)" % (
            TOPIC_IN, r["in_distinct"], a.n, len(ids_in)))
    if sum(hi - lo for lo, hi in wm_in) != r["in_total"]:
        problems.append("%s: watermarks say %d messages, %d were read" % (
            TOPIC_IN, sum(hi - lo for lo, hi in wm_in), r["in_total"]))
    r["out_distinct"] = len(want & ids_out.keys())
    r["missing"] = a.n - r["out_distinct"]
    r["duplicates"] = sum(c - 1 for v, c in ids_out.items() if v in want)
    stray = [v for v in ids_out if v not in want]
    if r["missing"]:
        sample = sorted(want - ids_out.keys())[:10]
        problems.append("%d ids never reached %s, e.g. %s" % (r["missing"], TOPIC_OUT, sample))
    if stray:
        problems.append("%d unexpected values on %s, e.g. %s" % (len(stray), TOPIC_OUT,
                                                                 stray[:5]))
    # The history: every execution ended with an outcome, the file is sound.
    h = history_report(os.path.join(a.work, "container", "data", "history.db"))
    r["history"] = h
    if h["integrity"] != "ok":
        problems.append("history integrity_check: %s" % h["integrity"])
    if h["by_status"].get("running"):
        problems.append("%d executions still 'running' in the history" % h["by_status"]["running"])
    if h["unbalanced"]:
        problems.append("%d executions whose document counts do not add up" % h["unbalanced"])
    if h["success_docs"] < a.n:
        problems.append("the history has %d successful documents, fewer than %d" % (
            h["success_docs"], a.n))
    if sum(ids_out.values()) < h["success_docs"]:
        problems.append("%s holds %d messages, fewer than the %d documents the history "
                        "reports as relayed" % (TOPIC_OUT, sum(ids_out.values()),
                                                h["success_docs"]))
    kills = sum(inc.how == "SIGKILL" for inc in incs)
    if h["interrupted"] > kills * 4:
        problems.append("%d executions interrupted for %d SIGKILLs (at most 4 run at once)" % (
            h["interrupted"], kills))
    r["retried"] = count_lines(incs, "retrying from its first offset")
    problems.extend(scan_stderr(incs))
    # Memory: the longest run's RSS stays flat.
    longest = max(incs, key=lambda inc: len(inc.rss))
    r["longest"] = longest
    r["rss"] = rss_verdict(longest)
    if r["rss"] is None:
        problems.append("listener %d has too few RSS samples (%d) to judge" % (
            longest.number, len(longest.rss)))
    elif abs(r["rss"][2]) > RSS_TOLERANCE:
        problems.append("RSS not flat: median %s in the 2nd quarter, %s in the last (%+.1f%%)" %
                        (mib(r["rss"][0]), mib(r["rss"][1]), 100 * r["rss"][2]))


def main(argv):
    a = parse_args(argv)
    try:
        r = soak(a)
    except SoakError as e:
        log("soak INVALID: %s" % e)
        return 2
    with open(os.path.join(a.work, "rss.tsv"), "w") as f:
        f.write("run\tseconds\tvmrss_kb\n")
        for inc in r["incarnations"]:
            f.writelines("%d\t%.1f\t%d\n" % (inc.number, t, kb) for t, kb in inc.rss)
    text = report(a, r)
    print(text)
    with open(os.path.join(a.work, "RESULTS.md"), "w") as f:
        f.write(text)
    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
        log("wrote %s" % a.write)
    log("soak %s" % ("PASS" if not r["problems"] else "FAIL: " + "; ".join(r["problems"])))
    return 0 if not r["problems"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
