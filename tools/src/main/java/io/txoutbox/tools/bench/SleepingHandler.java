package io.txoutbox.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The lanes benchmark's handler: a {@code MessageHandler} that spends 2 ms per message (a handler
 * doing real work) and then adds 1 to the message's account. The testkit cannot depend on
 * inbox-consumer (the consumer's tests depend on the testkit), so the class is compiled here
 * against {@code inbox-consumer.jar} and put on the consumer process's classpath.
 */
final class SleepingHandler {
  static final String CLASS_NAME = "BenchSleepingHandler";

  private static final String SOURCE =
      """
      import io.txoutbox.consumer.HandlerContext;
      import io.txoutbox.consumer.InboxMessage;
      import io.txoutbox.consumer.MessageHandler;
      import java.sql.PreparedStatement;

      public class BenchSleepingHandler implements MessageHandler {
        @Override
        public void handle(InboxMessage m, HandlerContext ctx) throws Exception {
          Thread.sleep(2);
          try (PreparedStatement ps = ctx.connection().prepareStatement(
              "UPDATE bench_accounts SET balance = balance + 1, last_message = ?"
                  + " WHERE id = CAST(split_part(?, '-', 2) AS int)")) {
            ps.setString(1, m.messageId());
            ps.setString(2, m.key());
            ps.executeUpdate();
          }
        }
      }
      """;

  private SleepingHandler() {}

  /**
   * Compiles the handler into {@code dir}, unless {@code dir} holds it compiled from this very
   * source already (then a runtime without a compiler, like the packed one of the 16-core runs,
   * runs the lanes part from a directory filled on a machine with a JDK).
   *
   * @return {@code dir}, to append to the consumer's classpath
   */
  static Path compile(Path consumerJar, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path source = dir.resolve(CLASS_NAME + ".java");
    if (Files.exists(dir.resolve(CLASS_NAME + ".class"))
        && Files.exists(source)
        && Files.readString(source).equals(SOURCE)) {
      return dir;
    }
    Files.writeString(source, SOURCE);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException("the lanes benchmark needs a JDK (javax.tools compiler)");
    }
    List<String> args =
        List.of("-cp", consumerJar.toString(), "-d", dir.toString(), source.toString());
    if (javac.run(null, null, null, args.toArray(String[]::new)) != 0) {
      throw new IllegalStateException("compiling " + source + " failed");
    }
    return dir;
  }
}
