/*
 * envsubst.h - ${env:NAME} references in definition values, so that secrets
 * and per-environment values stay out of the files.
 *
 * Only the exact form ${env:NAME} is special (NAME: letters, digits and
 * underscores, not starting with a digit); any other '$' is literal text. A
 * variable that is set but empty substitutes as the empty string.
 */
#ifndef CONNRT_ENVSUBST_H
#define CONNRT_ENVSUBST_H

#include "diagnostics.h"

/*
 * Return a copy of `text` with every ${env:NAME} replaced by the value of
 * the environment variable NAME. Owned by the caller (free()). Each problem
 * ("environment variable NAME is not set", an unterminated or malformed
 * reference) is added to `diag` at file:line and counted in *problems; the
 * result is then NULL. NULL without a problem counted means out of memory.
 */
char *connrt_envsubst(const char *text, const char *file, int line, connrt_diagnostics_t *diag,
                      size_t *problems);

#endif
