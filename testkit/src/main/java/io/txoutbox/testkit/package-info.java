/**
 * The real local stack for txoutbox's integration tests, demo and benchmarks.
 *
 * <ul>
 *   <li>{@link io.txoutbox.testkit.LocalPostgres}: PostgreSQL 17 from {@code TXOUTBOX_TEST_DB_URL},
 *       Testcontainers, or embedded binaries (works as root), durable settings, one database per
 *       test class via {@code createDatabase}.
 *   <li>{@link io.txoutbox.testkit.LocalKafka}: Apache Kafka 4.4 in KRaft mode, in this JVM or as
 *       broker processes that can be killed with SIGKILL and restarted on their data.
 *   <li>{@link io.txoutbox.testkit.JavaProcess}: any main class as a child JVM with this classpath,
 *       to kill, stop, pause and resume.
 *   <li>{@link io.txoutbox.testkit.TcpProxy}: a TCP proxy between a client and PostgreSQL or Kafka
 *       that cuts, stalls, refuses or black-holes connections on command.
 * </ul>
 *
 * <p>Everything lives under {@code ${java.io.tmpdir}/txoutbox-testkit} (or {@code
 * TXOUTBOX_TESTKIT_DIR}); processes and directories left by a JVM that was killed are reaped on the
 * next start. Nothing here depends on other txoutbox modules.
 */
package io.txoutbox.testkit;
