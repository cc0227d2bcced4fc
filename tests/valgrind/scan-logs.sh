#!/bin/sh
# scan-logs.sh DIR TEST...: the verdict of make check-valgrind over the
# memcheck logs of the TESTs just run (DIR/unit/test_x/..., one log per process;
# other tests' logs, from an earlier run, stay but are not read). Fails, naming each
# log, when a process reported a memory error or a definite leak. A process
# killed by SIGKILL (the crash tests do that on purpose) leaves a log
# without a summary: it is counted, not failed (there is nothing to check).
set -u
dir=$1
shift
dirs=
tests=0
for t in "$@"; do
    name=$(basename "$(dirname "$t")")/$(basename "$t" .sh)
    [ -d "$dir/$name" ] && dirs="$dirs $dir/$name"
    tests=$((tests + 1))
done
logs=0 complete=0 bad=0 suppressed=0
for log in $(find $dirs /dev/null -name '*.log' -type f | sort); do
    logs=$((logs + 1))
    summary=$(grep 'ERROR SUMMARY:' "$log" | tail -1)
    if [ -z "$summary" ]; then
        echo "memcheck: no summary (killed): $log"
        continue
    fi
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
echo "memcheck: $tests test(s), $logs process(es), $((logs - complete)) killed before their summary," \
    "$bad with errors or definite leaks, $suppressed known third-party report(s) suppressed"
[ "$bad" -eq 0 ]
