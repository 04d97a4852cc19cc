#!/usr/bin/env bash
# The broker crash right after an abort, repeated (outbox-relay/README.md, "Broker crash right
# after an abort"): commit a transaction, abort the next one from the same producer, SIGKILL the
# broker the moment abortTransaction() returns, restart it on the same log directory, commit one
# more transaction with the same transactional id, read read_committed. The last line is the
# summary; exit 0 only if no aborted record was visible and no transaction hung.
#   ./abort-probe.sh --iterations 200            # one broker process
#   ./abort-probe.sh --iterations 50 --cluster   # 3 brokers, RF 3, min.insync.replicas=2
#   ./abort-probe.sh --abort-leftovers ...       # with the mitigation (Admin.abortTransaction)
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -ntp -q -pl tools -am -DskipTests package
exec java -Xmx1g -Dlogback.configurationFile=txoutbox-tools-logback.xml -cp "tools/target/classes:$(cat tools/target/classpath.txt)" \
  io.txoutbox.tools.abortprobe.AbortProbe "$@"
