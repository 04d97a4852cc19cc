package io.txoutbox.consumer.internals;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;

/**
 * The connection a Java handler sees: the inbox transaction's own, except that whatever would end
 * or escape that transaction fails. A handler that committed would commit its effect without the
 * inbox row and the offset, and exactly-once would be gone.
 */
final class GuardedConnection implements InvocationHandler {
  private static final Set<String> FORBIDDEN =
      Set.of("commit", "close", "setAutoCommit", "abort", "setTransactionIsolation");

  private final Connection target;

  private GuardedConnection(Connection target) {
    this.target = target;
  }

  static Connection wrap(Connection target) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new GuardedConnection(target));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    boolean plainRollback = name.equals("rollback") && (args == null || args.length == 0);
    if (FORBIDDEN.contains(name) || plainRollback) {
      throw new SQLException(
          "Connection."
              + name
              + "() is not allowed in a MessageHandler: the consumer commits the effect together"
              + " with the inbox row and the offset");
    }
    if (name.equals("isClosed")) {
      return target.isClosed();
    }
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
