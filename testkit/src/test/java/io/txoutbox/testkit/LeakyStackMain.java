package io.txoutbox.testkit;

/**
 * Starts an embedded PostgreSQL and a Kafka broker process, prints their pids, and waits: the JVM
 * that a test kills with SIGKILL to leave both behind.
 */
public final class LeakyStackMain {

  private LeakyStackMain() {}

  public static void main(String[] args) throws InterruptedException {
    LocalPostgres postgres = LocalPostgres.startEmbedded();
    LocalKafka kafka = LocalKafka.process();
    System.out.println(
        "POSTMASTER pid="
            + postgres.serverPid().orElseThrow()
            + " url="
            + postgres.jdbcUrl()
            + " BROKER pid="
            + kafka.pid(0).orElseThrow());
    Thread.sleep(Long.MAX_VALUE);
  }
}
