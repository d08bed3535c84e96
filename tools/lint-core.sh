#!/bin/sh
# Fails if core/ touches the OS, the clock or global randomness (DESIGN.md section 1).
# Two independent checks:
#  1. source: only pure C standard headers are included, and no forbidden
#     function is named (comments are stripped first);
#  2. objects: every symbol core's objects import is on a whitelist of pure
#     libc functions, so nothing slips in through a macro or a header.
BUILD=${1:-build}
fail=0
allowed_headers='assert|limits|stdarg|stdbool|stddef|stdint|inttypes|stdlib|string|stdio'
forbidden='time|clock|clock_gettime|gettimeofday|rand|srand|random|srandom|rand_r|drand48|getenv|setenv|socket|connect|bind|listen|accept|open|openat|close|read|write|fopen|fclose|fread|fwrite|fprintf|printf|puts|fputs|perror|exit|_exit|system|popen|mmap|fork|sleep|usleep|nanosleep|signal|sigaction|select|poll|epoll_wait|dlopen|getpid'
for f in $(find core -name '*.[ch]' | sort); do
  bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$f" | grep -vE "<($allowed_headers)\.h>")
  if [ -n "$bad" ]; then echo "$f: system header not allowed in core/: $bad"; fail=1; fi
  if grep -n 'pthread' "$f" >/dev/null; then echo "$f: threads are not allowed in core/"; fail=1; fi
  calls=$(gcc -fpreprocessed -dD -E -P "$f" 2>/dev/null | grep -nE "(^|[^A-Za-z0-9_.>])($forbidden)[[:space:]]*\(" )
  if [ -n "$calls" ]; then echo "$f: forbidden call in core/:"; echo "$calls"; fail=1; fi
done
pure='memcpy|memmove|memset|memcmp|memchr|strlen|strnlen|strcmp|strncmp|strchr|strrchr|strstr|strspn|strcspn|malloc|calloc|realloc|free|abort|qsort|bsearch|snprintf|vsnprintf|strtoull|strtoll|strtoul|strtol|__stack_chk_fail|__assert_fail|_GLOBAL_OFFSET_TABLE_|__memcpy_chk|__memmove_chk|__memset_chk|__snprintf_chk|__vsnprintf_chk|__strcpy_chk|__builtin_.*|__cpu_model'
# __cpu_model: the CPU's feature flags, filled by the compiler's runtime at load (rf_crc32c's SSE4.2 test).
objs=$(find "$BUILD/obj/core" -name '*.o' 2>/dev/null)
if [ -z "$objs" ]; then echo "lint: no core objects under $BUILD/obj/core (run make first)"; exit 1; fi
for o in $objs; do
  ext=$(nm -u "$o" | awk '{print $2}' | grep -vE "^($pure)$" | grep -vE '^rf_')
  if [ -n "$ext" ]; then echo "$o imports non-pure symbols: $ext"; fail=1; fi
done
[ $fail = 0 ] && echo "lint: core/ is pure ($(echo "$objs" | wc -w) objects checked)"
exit $fail
