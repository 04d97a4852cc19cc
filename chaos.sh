#!/usr/bin/env bash
# The fault-injection suite: the whole txoutbox pipeline on the embedded local stack (real
# PostgreSQL, real Kafka broker processes, relays and consumers as separate processes from their
# jars) under randomised crashes, restarts, TCP cuts, stalls and zombies, then a per-message check.
# The last line is the summary; exit 0 only if nothing was lost, duplicated or reordered.
#   ./chaos.sh                                     # short run (20k messages, 12 faults)
#   ./chaos.sh --messages 1000000 --faults 100     # long run
#   ./chaos.sh --seed 1234 ...                     # replay a run's fault schedule
# Options: ./chaos.sh --help. Logs: target/chaos-logs/ (chaos.log is the fault timeline).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -ntp -q -DskipTests package
exec java -Xmx2g -Dlogback.configurationFile=txoutbox-tools-logback.xml -cp "tools/target/classes:$(cat tools/target/classpath.txt)" \
  io.txoutbox.tools.chaos.Chaos --repo . "$@"
