"""What every benchmark and soak report says about where it ran: the
machine (cores, CPU model, memory, kernel), a command's output, and the git
version of the tree. Shared by bench/summarize.py, bench/listen.py and
tests/soak/soak.py."""
import os
import platform
import subprocess


def command_output(args):
    """The command's standard output ("" when it cannot run)."""
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    """"2 cores, <CPU model>, 23.5 GiB RAM, Linux <release>"."""
    model = "?"
    mem_kb = 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return "%d cores, %s, %.1f GiB RAM, %s %s" % (
        os.cpu_count() or 0, model, mem_kb / 1048576, platform.system(), platform.release())


def git_version(top):
    """`git describe --always --dirty` of the tree at `top`, or "?"."""
    return command_output(["git", "-C", top, "describe", "--always", "--dirty"]).strip() or "?"
