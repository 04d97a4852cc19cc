package io.txoutbox.runtime;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** Connection pools for the daemons, configured from the common database options. */
public final class Database {
  private Database() {}

  /**
   * A pool-less data source for short-lived commands ({@code migrate}, {@code status}): one
   * connection per {@code getConnection()}.
   */
  public static DataSource simple(Config config) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(config.string("db-url"));
    if (config.has("db-user")) {
      ds.setUser(config.string("db-user"));
    }
    if (config.has("db-password")) {
      ds.setPassword(config.string("db-password"));
    }
    return ds;
  }

  /**
   * A pool for the given configuration ({@code db-url}, {@code db-user}, {@code db-password}).
   *
   * @param poolName shows in logs and thread names
   * @param maxSize maximum connections
   * @param applicationName PostgreSQL {@code application_name}, visible in {@code pg_stat_activity}
   */
  public static HikariDataSource pool(
      Config config, String poolName, int maxSize, String applicationName) {
    return pool(config, poolName, maxSize, applicationName, null);
  }

  /**
   * Like {@link #pool(Config, String, int, String)}, plus SQL run once on every new connection,
   * typically session settings ({@code SET lock_timeout = '5s'}) that must hold on every connection
   * the pool ever opens, including those that replace connections lost to a server restart.
   *
   * @param connectionInitSql one statement, or null for none
   */
  public static HikariDataSource pool(
      Config config,
      String poolName,
      int maxSize,
      String applicationName,
      String connectionInitSql) {
    HikariConfig hc = new HikariConfig();
    if (connectionInitSql != null) {
      hc.setConnectionInitSql(connectionInitSql);
    }
    hc.setPoolName(poolName);
    hc.setJdbcUrl(config.string("db-url"));
    if (config.has("db-user")) {
      hc.setUsername(config.string("db-user"));
    }
    if (config.has("db-password")) {
      hc.setPassword(config.string("db-password"));
    }
    hc.setMaximumPoolSize(maxSize);
    hc.setMinimumIdle(1);
    hc.setAutoCommit(false);
    hc.setConnectionTimeout(Duration.ofSeconds(10).toMillis());
    hc.setValidationTimeout(Duration.ofSeconds(3).toMillis());
    // A dead server must not hang a daemon for the OS default TCP timeout.
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    hc.addDataSourceProperty("socketTimeout", "60");
    hc.addDataSourceProperty("connectTimeout", "10");
    hc.addDataSourceProperty("ApplicationName", applicationName);
    // Let the pool start even when the database is briefly down: the daemons retry.
    hc.setInitializationFailTimeout(-1);
    return new HikariDataSource(hc);
  }
}
