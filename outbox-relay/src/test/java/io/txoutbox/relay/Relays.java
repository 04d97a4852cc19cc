package io.txoutbox.relay;

import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.runtime.Config;
import io.txoutbox.testkit.JavaProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Starts relays for tests: in this JVM, or as OS processes running {@link RelayMain}. */
final class Relays {
  private static final AtomicInteger IDS = new AtomicInteger();

  private Relays() {}

  /** The relay command line for {@code db} and {@code bootstrap}, plus {@code extra}. */
  static String[] args(TestDb db, String bootstrap, String relayName, String... extra) {
    List<String> args = new ArrayList<>(db.args());
    args.addAll(List.of("--kafka-bootstrap", bootstrap, "--relay-name", relayName));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  /** A started relay in this JVM with its own instance id. */
  static Relay inJvm(TestDb db, String bootstrap, String relayName, String... extra) {
    Config config = RelayConfig.definition().parse(args(db, bootstrap, relayName, extra), Map.of());
    RelayConfig rc = RelayConfig.from(config, "test-" + relayName + "-" + IDS.incrementAndGet());
    Relay relay = new Relay(rc, Relay.pool(config, rc), CrashHook.none());
    relay.start();
    return relay;
  }

  /** A relay process; {@code env} may set the crash hook. */
  static JavaProcess process(
      TestDb db, String bootstrap, String relayName, Map<String, String> env, String... extra) {
    JavaProcess.Builder b =
        JavaProcess.builder(RelayMain.class)
            .name("relay-" + relayName)
            .jvmArgs("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
            .args(args(db, bootstrap, relayName, extra));
    env.forEach(b::env);
    return b.start();
  }
}
