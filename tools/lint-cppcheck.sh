#!/bin/sh
# Static analysis of the whole tree with cppcheck. Level: the warning,
# performance and portability classes (style is left to review), all
# configurations of the preprocessor, C11. Zero findings are allowed;
# a deliberate exception is written inline as `// cppcheck-suppress id`.
set -e
command -v cppcheck >/dev/null || { echo "lint: cppcheck missing (make deps)"; exit 1; }
cppcheck --quiet --std=c11 --language=c --enable=warning,performance,portability \
  --inline-suppr --error-exitcode=1 --suppress=missingIncludeSystem \
  -I core -I . -j 2 core sim prod reports tests scenarios/models 2>&1
echo "lint: cppcheck clean (warning, performance, portability)"
