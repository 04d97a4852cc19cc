#!/usr/bin/env bash
# The whole txoutbox pipeline on the embedded local stack (real PostgreSQL, real Kafka broker,
# relays and consumers as separate processes), with faults, ending in a verification table.
# Needs only JDK 17 and Maven. Options: ./demo.sh --help
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -ntp -q -DskipTests package
exec java -Xmx1g -Dlogback.configurationFile=txoutbox-tools-logback.xml -cp "tools/target/classes:$(cat tools/target/classpath.txt)" \
  io.txoutbox.tools.demo.Demo --repo . "$@"
