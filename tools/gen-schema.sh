#!/bin/sh
# Regenerates sim/record_schema.c (the schema embedded in the recorder) from
# sim/history.sql. tests/sim/record_test.c fails when the two differ.
set -e
cd "$(dirname "$0")/.."
{
  echo "/* record_schema: the history schema embedded in the recorder (from sim/history.sql by tools/gen-schema.sh). */"
  echo '#include "sim/record.h"'
  echo
  echo "const char rf_rec_schema_sql[] ="
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' sim/history.sql
  echo "    ;"
} > sim/record_schema.c.tmp
mv sim/record_schema.c.tmp sim/record_schema.c
