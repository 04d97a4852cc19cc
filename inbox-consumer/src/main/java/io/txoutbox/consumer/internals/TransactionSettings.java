package io.txoutbox.consumer.internals;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A data source whose connections set {@code lock_timeout} and {@code
 * idle_in_transaction_session_timeout} for each transaction ({@code set_config(..., true)}, the
 * function form of {@code SET LOCAL}) as its first statement, instead of once per session. Behind a
 * pooler in transaction mode (PgBouncer {@code pool_mode=transaction}) a session setting stays on
 * whichever server connection it happened to run on, so only a per-transaction setting is sure to
 * bound the consumer's own lock waits and idle transactions. Costs one round trip per transaction.
 *
 * <p>The first statement prepared or created after the connection is handed out, or after a commit
 * or rollback, is preceded by the settings. Each connection is confined to one thread at a time,
 * like the connection it wraps.
 */
public final class TransactionSettings implements DataSource {
  private static final Set<String> STATEMENTS =
      Set.of("prepareStatement", "createStatement", "prepareCall");

  private final DataSource delegate;
  private final String settingsSql;

  /**
   * @param delegate the pool
   * @param lockTimeout {@code lock_timeout} of every transaction
   * @param idleInTransactionTimeout {@code idle_in_transaction_session_timeout} of every
   *     transaction
   */
  public TransactionSettings(
      DataSource delegate, Duration lockTimeout, Duration idleInTransactionTimeout) {
    this.delegate = delegate;
    this.settingsSql =
        "SELECT set_config('lock_timeout', '"
            + lockTimeout.toMillis()
            + "ms', true), set_config('idle_in_transaction_session_timeout', '"
            + idleInTransactionTimeout.toMillis()
            + "ms', true)";
  }

  @Override
  public Connection getConnection() throws SQLException {
    return wrap(delegate.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return wrap(delegate.getConnection(username, password));
  }

  private Connection wrap(Connection target) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new Handler(target));
  }

  private final class Handler implements InvocationHandler {
    private final Connection target;
    private boolean inTransaction;

    Handler(Connection target) {
      this.target = target;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      String name = method.getName();
      if (!inTransaction && STATEMENTS.contains(name)) {
        try (Statement st = target.createStatement()) {
          st.execute(settingsSql);
        }
        inTransaction = true;
      } else if ((name.equals("commit") || name.equals("rollback") || name.equals("close"))
          && (args == null || args.length == 0)) {
        inTransaction = false;
      }
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return delegate.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    delegate.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    delegate.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return delegate.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return delegate.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return delegate.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return delegate.isWrapperFor(iface);
  }
}
