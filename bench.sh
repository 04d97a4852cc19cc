#!/usr/bin/env bash
# Benchmarks outbox-relay and inbox-consumer on the local stack against baselines measured in the
# same run; prints a table and writes target/bench/results.json. Options: ./bench.sh --help
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -ntp -q -DskipTests package
exec java -Xmx2g -Dlogback.configurationFile=txoutbox-tools-logback.xml -cp "tools/target/classes:$(cat tools/target/classpath.txt)" \
  io.txoutbox.tools.bench.Benchmark --repo . "$@"
