#!/usr/bin/env bash
# The README's quickstart works: 1,000 orders go to Kafka and come back with
# their tracked properties.
. "$(dirname "$0")/lib.sh"
export OUT_DIR="$TMP/out"
run_qs() { "$top_srcdir/samples/quickstart/run.sh" "$top_builddir" > "$TMP/qs.log" 2>&1; }
check "quickstart runs to the end" run_qs
cat "$TMP/qs.log"
check "1,000 orders produced, all successes" \
    test "$(jsonl "$OUT_DIR/produced.jsonl" 'sum(d["outcome"]=="success" for d in docs)')" = 1000
check "1,000 orders consumed back" test "$(jsonl "$OUT_DIR/consumed.jsonl" 'len(docs)')" = 1000
check "each consumed order is keyed by its customer, with partition and offset tracked" \
    test "$(jsonl "$OUT_DIR/consumed.jsonl" 'all(d["key"]==json.loads(d["value"])["customer"] and isinstance(d["partition"], int) and isinstance(d["offset"], int) for d in docs)')" = True
finish
