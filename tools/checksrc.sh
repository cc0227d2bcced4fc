#!/bin/sh
# Refuse banned functions (curl's checksrc idea): strcpy, sprintf, strtok, atoi;
# reallocarray, which memcheck does not replace (connrt_realloc_array, vector.h).
cd "${top_srcdir:-.}" || exit 1
hits=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets|reallocarray)\s*\(' \
    runtime/*.c properties/*.c connector-kafka/*.c operations/*.c tests/fuzz/*.c 2>/dev/null)
if [ -n "$hits" ]; then
    echo "banned functions used:"; echo "$hits"; exit 1
fi
echo "checksrc: no banned functions"
