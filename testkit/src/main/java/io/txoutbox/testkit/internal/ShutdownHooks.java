package io.txoutbox.testkit.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JVM shutdown hook that runs registered actions in reverse order of registration (processes
 * started last are stopped first, like closing resources in reverse order). Separate JVM hooks
 * would run concurrently and in no order.
 */
public final class ShutdownHooks {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownHooks.class);

  private static final Deque<Hook> HOOKS = new ArrayDeque<>();
  private static boolean installed;

  private ShutdownHooks() {}

  /** A registered action; {@link #cancel()} when the resource was closed normally. */
  public static final class Hook {
    private final String name;
    private final Runnable action;

    private Hook(String name, Runnable action) {
      this.name = name;
      this.action = action;
    }

    /** Unregisters the action; idempotent. */
    public void cancel() {
      synchronized (ShutdownHooks.class) {
        HOOKS.remove(this);
      }
    }
  }

  /** Registers an action to run at JVM shutdown. */
  public static synchronized Hook register(String name, Runnable action) {
    if (!installed) {
      Runtime.getRuntime()
          .addShutdownHook(new Thread(ShutdownHooks::runAll, "txoutbox-testkit-shutdown"));
      installed = true;
    }
    Hook hook = new Hook(name, action);
    HOOKS.push(hook);
    return hook;
  }

  private static void runAll() {
    List<Hook> hooks;
    synchronized (ShutdownHooks.class) {
      hooks = new ArrayList<>(HOOKS);
      HOOKS.clear();
    }
    for (Hook hook : hooks) {
      try {
        hook.action.run();
      } catch (RuntimeException | Error e) {
        LOG.warn("Shutdown of {} failed", hook.name, e);
      }
    }
  }
}
