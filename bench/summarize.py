#!/usr/bin/env python3
"""bench/summarize.py - turn bench/run.sh's results.tsv into the markdown
report of `make bench` (bench/RESULTS.md): machine, library versions, and
min / median / max of every figure with connrt's ratios to raw librdkafka
and kcat, each computed within one run (same cluster, same moment)."""

import argparse
import datetime
import os
import statistics
import sys

from machine_info import command_output, machine

TARGET_VS_RAW = 0.95

PRODUCE = [("raw_produce", "raw librdkafka"), ("kcat_produce", "kcat"),
           ("connrt_produce", "connrt Produce")]
PRODUCE_NOKEY = [("raw_produce_nokey", "raw librdkafka"), (None, None),
                 ("connrt_produce_nokey", "connrt Produce")]
CONSUME = [("raw_consume", "raw librdkafka"), ("kcat_consume", "kcat"),
           ("connrt_consume", "connrt Consume")]


def read_results(path):
    """{(size, test): {run: (secs, n, rss_kb, cpu_s)}}; failed runs as None."""
    out = {}
    with open(path) as f:
        for line in f:
            size, test, run, secs, n, rss, cpu = line.rstrip("\n").split("\t")
            rec = None
            if secs != "NaN":
                rec = (float(secs), int(n), int(rss), float(cpu))
            out.setdefault((size, test), {})[run] = rec
    return out


def pkg_version(name):
    return command_output(["pkg-config", "--modversion", name]).strip() or "?"





def kcat_version(kcat):
    for line in command_output([kcat, "-V"]).splitlines():
        if line.startswith("Version"):
            return line.split("(")[0].replace("Version", "").strip()
    return "?"


def fmt_rate(x):
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.0f k" % (x / 1e3)
    return "%.0f" % x


def spread(values, fmt):
    """'min / median / max' of the values, or '-' when there are none."""
    if not values:
        return "-"
    return " / ".join(fmt(v) for v in (min(values), statistics.median(values), max(values)))


def median(values, fmt):
    return fmt(statistics.median(values)) if values else "-"


class Figures:
    """Per-run figures of one client at one size."""

    def __init__(self, results, size, test, net):
        self.runs = {}
        self.failed = 0
        # The one-message run of the same client (the history variants
        # share it: their fixed cost is the same).
        base = {}
        if net:
            base_test = test.replace("_hist_errors", "").replace("_hist_all", "")
            base = results.get((size, base_test + "_1"), {})
        for run, rec in results.get((size, test), {}).items():
            if rec is None:
                self.failed += 1
                continue
            secs, n, rss, cpu = rec
            if net:
                # Net of the client's fixed cost (start-up, group join)
                # measured by a one-message run on the same cluster.
                one = base.get(run)
                if one is None or secs <= one[0]:
                    self.failed += 1
                    continue
                secs, n = secs - one[0], n - 1
            self.runs[run] = {"rate": n / secs, "rss": rss, "cpu": cpu * 1e6 / rec[1]}

    def values(self, key):
        return [r[key] for r in self.runs.values()]

    def ratios(self, other):
        return [r["rate"] / other.runs[k]["rate"] for k, r in self.runs.items()
                if k in other.runs]


def ratio_text(ratios):
    if not ratios:
        return "-"
    return "%.3f (%.3f–%.3f)" % (statistics.median(ratios), min(ratios), max(ratios))


def throughput_table(lines, results, sizes, clients, net, title):
    lines.append("| value size | client | runs | msgs/s min / median / max | MB/s (median) | "
                 "CPU µs/msg (median) | peak RSS MiB (median) | vs raw librdkafka, per run: "
                 "median (min–max) | vs kcat (median) |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for size in sizes:
        figs = {test: Figures(results, size, test, net) for test, _ in clients}
        raw, kcat = figs[clients[0][0]], figs[clients[1][0]]
        for test, label in clients:
            if test is None:
                continue
            f = figs[test]
            runs = "%d" % len(f.runs) + (" (+%d failed)" % f.failed if f.failed else "")
            mbs = [r["rate"] * int(size) / 1e6 for r in f.runs.values()]
            cpu = f.values("cpu")
            vs_raw = ratio_text(f.ratios(raw)) if f is not raw else "1"
            vs_kcat = median(f.ratios(kcat), lambda v: "%.3f" % v) if f is not kcat else "1"
            lines.append("| %s B | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                size, label, runs, spread(f.values("rate"), fmt_rate),
                median(mbs, lambda v: "%.1f" % v), median(cpu, lambda v: "%.2f" % v),
                median([r / 1024 for r in f.values("rss")], lambda v: "%.0f" % v),
                vs_raw, vs_kcat))
        connrt = figs[clients[2][0]]
        r_raw, r_kcat = connrt.ratios(raw), connrt.ratios(kcat)
        if title is None:
            continue
        if r_raw and r_kcat:
            ok = statistics.median(r_raw) >= TARGET_VS_RAW and statistics.median(r_kcat) >= 1
            verdicts.append("- %s, %s B: %.3f× raw librdkafka, %.3f× kcat: %s" % (
                title, size, statistics.median(r_raw), statistics.median(r_kcat),
                "meets the target" if ok else
                "**below the target** (≥ %.2f× raw and ≥ 1× kcat)" % TARGET_VS_RAW))
        else:
            verdicts.append("- %s, %s B: no complete run" % (title, size))
    lines.append("")
    lines.extend(verdicts)
    lines.append("")


def history_table(lines, results, sizes):
    """connrt on N_HIST documents with history.documents=errors and with the
    default (all), same data, same runs."""
    rows = []
    for size in sizes:
        for test, net, label in (("connrt_produce_hist", False, "connrt Produce"),
                                 ("connrt_consume_hist", True, "connrt Consume")):
            lean = Figures(results, size, test + "_errors", net)
            full = Figures(results, size, test + "_all", net)
            if not lean.runs and not full.runs:
                continue
            rows.append("| %s B | %s | %s | %s | %s | %s | %s |" % (
                size, label, spread(lean.values("rate"), fmt_rate),
                spread(full.values("rate"), fmt_rate),
                median(lean.values("cpu"), lambda v: "%.2f" % v),
                median(full.values("cpu"), lambda v: "%.2f" % v),
                ratio_text(full.ratios(lean))))
    if not rows:
        return
    lines += ["| value size | client | msgs/s, history.documents=errors: min / median / max | "
              "msgs/s, history.documents=all (default) | CPU µs/msg, errors | CPU µs/msg, all | "
              "all vs errors, per run: median (min–max) |",
              "|---|---|---|---|---|---|---|"] + rows + [""]


def memory_table(lines, results):
    tests = [("mem_connrt_produce", "connrt Produce"), ("mem_raw_produce", "raw produce"),
             ("mem_connrt_consume", "connrt Consume"), ("mem_raw_consume", "raw consume")]
    peaks = {}
    for (size, test), runs in results.items():
        if test.startswith("mem_"):
            for rec in runs.values():
                if rec is not None:
                    peaks.setdefault((test, rec[1]), []).append(rec[2])
                    mem_size = size
    # The median run of each figure (runs move by several MiB).
    rss = {k: (statistics.median(v), mem_size) for k, v in peaks.items()}
    ns = sorted({n for _, n in rss})
    if not ns:
        return
    lines.append("| documents | " + " | ".join("%s peak RSS MiB" % label for _, label in tests)
                 + " |")
    lines.append("|---" * (len(tests) + 1) + "|")
    for n in ns:
        cells = ["%.0f" % (rss[(t, n)][0] / 1024) if (t, n) in rss else "-" for t, _ in tests]
        lines.append("| %s | %s |" % ("{:,}".format(n), " | ".join(cells)))
    if len(ns) > 1:
        lo, hi = ns[0], ns[-1]
        cells = []
        for t, _ in tests:
            if (t, lo) in rss and (t, hi) in rss:
                cells.append("%.2f" % (rss[(t, hi)][0] / rss[(t, lo)][0]))
            else:
                cells.append("-")
        lines.append("| ratio %s / %s | %s |" % ("{:,}".format(hi), "{:,}".format(lo),
                                                  " | ".join(cells)))
    size = next(iter(rss.values()))[1]
    lines.append("")
    lines.append("Values of %s B. A ratio near 1 means memory stays flat in the number of "
                 "documents." % size)
    lines.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--connrt", default="connrt")
    ap.add_argument("--kcat", default="kcat")
    ap.add_argument("--settings", default="")
    ap.add_argument("--write")
    a = ap.parse_args()
    results = read_results(a.results)
    sizes = sorted({s for s, t in results if not t.startswith("mem_")}, key=int)
    connrt_version = command_output([a.connrt, "--version"]).strip() or "connrt ?"
    commit = command_output(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                             "describe", "--always", "--dirty"]).strip()

    lines = ["# connrt benchmark results", "",
             "Generated by `make bench` on %s. Regenerate with `make bench` "
             "(quicker: `make bench N=100000 RUNS=3`)." %
             datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip(), "",
             "- Machine: %s" % machine(),
             "- %s%s; librdkafka %s, kcat %s, jansson %s, libxml2 %s" % (
                 connrt_version, " (git %s)" % commit if commit else "",
                 pkg_version("rdkafka"), kcat_version(a.kcat), pkg_version("jansson"),
                 pkg_version("libxml-2.0")),
             "- Settings: %s" % a.settings, "",
             "Every run starts a fresh `connrt embedded-cluster` (librdkafka's mock "
             "cluster, one broker, loopback, sharing the machine's cores with the "
             "clients). Every figure is the whole client process, start-up included. "
             "Ratios are taken within each run, then summarised.", "",
             "## Produce", "",
             "N keyed messages (1,000 keys) to a 4-partition topic, linger.ms=5, acks=all, "
             "idempotent, murmur2_random partitioner. connrt: `<start/>` reading the "
             "JSON Lines payload file, `<set-properties>` key from `/customer` by "
             "json-pointer, Produce. kcat: `-P -K<TAB> -l` of the same values. "
             "Raw librdkafka: `rawbench produce` (a producev loop).", ""]
    throughput_table(lines, results, sizes, PRODUCE, False, "Produce")
    lines += ["Diagnostic, the same without a key (sticky partitioner; connrt does no "
              "JSON parsing): what the engine and the Produce operation cost by "
              "themselves.", ""]
    throughput_table(lines, results, sizes, PRODUCE_NOKEY, False, None)
    lines += ["## Consume", "",
              "N messages laid down in full batches over enough partitions (the mock keeps "
              "~5 MiB per partition), read through a fresh consumer group with "
              "queued.min.messages=1000000. connrt: Consume as the start step "
              "(min_messages=N, max.poll.records=%s), `<output/>` JSON Lines to a file. "
              "kcat: `-G` writing values to a file. Raw librdkafka: `rawbench consume -g` "
              "(consumer_poll loop, no output). Rates are net of each client's fixed cost "
              "(start-up and the 3 s group join of this cluster), measured by a "
              "one-message run in the same run: (N−1) / (T(N) − T(1))." %
              (a.settings.split("POLL_RECORDS=")[-1] if "POLL_RECORDS=" in a.settings else "?"),
              ""]
    throughput_table(lines, results, sizes, CONSUME, True, "Consume")
    ref = ["| %s B | %s |" % (s, spread([r[1] / r[0] for r in results.get(
        (s, "raw_consume_assign"), {}).values() if r], fmt_rate)) for s in sizes]
    lines += ["Reference, raw librdkafka assigning every partition without a group "
              "(whole process, msgs/s min / median / max):", "",
              "| value size | msgs/s |", "|---|---|"] + ref + [""]
    lines += ["## Execution history", "",
              "The tables above run with the container property history.documents=errors "
              "(executions, counts and failed documents are recorded). The default, "
              "history.documents=all, also records every document with its tracked "
              "properties in data/history.db. Both on N_HIST documents (see Settings), same "
              "pipelines, in the same runs:", ""]
    history_table(lines, results, sizes)
    mem_lines = []
    memory_table(mem_lines, results)
    if mem_lines:
        lines += ["## Memory", "",
                  "Peak RSS (getrusage of the child, GNU time), the median of MEM_RUNS runs each, "
                  "same pipelines as above.", ""] + mem_lines
    text = "\n".join(lines).rstrip() + "\n"
    sys.stdout.write(text)
    if a.write:
        with open(a.write + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.write + ".tmp", a.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
