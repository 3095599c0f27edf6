#!/usr/bin/env bash
# scripts/check-layers.sh - the server's layering rules, checked on the
# source (make lint runs it; docs/ARCHITECTURE.md "Server"):
#   api/ -> model/ -> core/ + store/; http/ is used by api/ (and main.c) only
#   - model/, core/ and store/ include no HTTP header and call no http_*();
#   - api/ makes no store call (store_get/put/query/batch_*...) and includes
#     no store/keys.h: it reaches the data through model/;
#   - no file outside store/keys.c writes a composite store key: no
#     printf-family format joining parts with '|' under server/ or
#     tools/bench/, apart from strings that are not keys: rate-limit bucket
#     names and the AADs of sealed values (each built by one named helper).
# Prints each violation as FILE:LINE: text and exits 1 when there is one.
set -u
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
report() { # MESSAGE, then grep -n output on stdin
	sed "s|^|layers: $1: |" >>"$out"
}
grep -nE '#include "http/|[^_a-z]http_[a-z_]+\(' server/model/*.[ch] server/core/*.[ch] server/store/*.[ch] |
	grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)' | report "model/core/store must not use the HTTP layer"
grep -nE '\bstore_(get|put|delete|update|query|scan|batch_[a-z]+|copy_compact|stats)\(|#include "store/keys.h"' \
	server/api/*.c | report "api/ reaches the store only through model/"
# composite keys: a printf-family call whose format joins parts with '|'
grep -nE 'printf\([^"]*"[^"]*\|%' server/*/*.c server/main.c tools/bench/*.c |
	grep -vE '^server/store/keys\.c:' |
	grep -vE '"%s\|%s", em, addr|"enroll\|%s"|aad|log_' |
	report "store keys are built in store/keys.c only"
[ -s "$out" ] || exit 0
cat "$out" >&2
exit 1
