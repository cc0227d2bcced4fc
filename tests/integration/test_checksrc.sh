#!/bin/sh
# Banned functions (strcpy, sprintf, strtok, atoi...) never enter the code.
exec sh "${top_srcdir:?}/tools/checksrc.sh"
