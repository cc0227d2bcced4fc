#!/bin/sh
# scan-logs.sh DIR: the verdict of make check-valgrind over the memcheck logs
# in DIR (one directory per test, one log per process). Fails, naming each
# log, when a process reported a memory error or a definite leak. A process
# killed by SIGKILL (the crash tests do that on purpose) leaves a log
# without a summary: it is counted, not failed (there is nothing to check).
set -u
dir=$1
logs=0 complete=0 bad=0 suppressed=0
for log in $(find "$dir" -name '*.log' -type f | sort); do
    logs=$((logs + 1))
    summary=$(grep 'ERROR SUMMARY:' "$log" | tail -1)
    [ -n "$summary" ] || continue
    complete=$((complete + 1))
    n=$(echo "$summary" | sed -n 's/.*(suppressed: \([0-9]*\) from.*/\1/p')
    suppressed=$((suppressed + ${n:-0}))
    case $summary in
    *'ERROR SUMMARY: 0 errors'*) ;;
    *)
        bad=$((bad + 1))
        echo "memcheck: $log: ${summary#*== }"
        grep -m 1 -A 12 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination|Argument|.* definitely lost)' "$log" \
            | sed 's/^/    /'
        ;;
    esac
done
tests=$(find "$dir" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "memcheck: $tests test(s), $logs process(es), $((logs - complete)) killed before their summary," \
    "$bad with errors or definite leaks, $suppressed known third-party report(s) suppressed"
[ "$bad" -eq 0 ]
