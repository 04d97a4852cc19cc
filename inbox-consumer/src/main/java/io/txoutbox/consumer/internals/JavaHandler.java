package io.txoutbox.consumer.internals;

import io.opentelemetry.context.Scope;
import io.txoutbox.consumer.HandlerContext;
import io.txoutbox.consumer.MessageHandler;
import io.txoutbox.runtime.ConfigException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code --handler-class} effect: a {@link MessageHandler} called once per new message. */
public final class JavaHandler implements Effect {
  private static final Logger log = LoggerFactory.getLogger(JavaHandler.class);

  static {
    // jOOQ (the handler context's DSLContext) would print a banner and tips on first use.
    System.setProperty("org.jooq.no-logo", "true");
    System.setProperty("org.jooq.no-tips", "true");
  }

  private final MessageHandler handler;
  private final String group;

  JavaHandler(MessageHandler handler, String group) {
    this.handler = handler;
    this.group = group;
  }

  /**
   * Loads and instantiates the handler class.
   *
   * @throws ConfigException naming {@code key} when the class is missing, is not a MessageHandler,
   *     has no public no-arg constructor or its constructor fails
   */
  public static JavaHandler load(String className, String group, String key) {
    Class<?> type;
    try {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      type =
          Class.forName(
              className, true, loader != null ? loader : JavaHandler.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new ConfigException(key, "cannot load class " + className + ": " + e);
    }
    if (!MessageHandler.class.isAssignableFrom(type)) {
      throw new ConfigException(
          key, className + " does not implement " + MessageHandler.class.getName());
    }
    if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())) {
      throw new ConfigException(key, className + " must be a public, non-abstract class");
    }
    try {
      Constructor<?> ctor = type.getConstructor();
      return new JavaHandler((MessageHandler) ctor.newInstance(), group);
    } catch (NoSuchMethodException e) {
      throw new ConfigException(key, className + " needs a public no-argument constructor");
    } catch (InvocationTargetException e) {
      throw new ConfigException(key, "constructor of " + className + " failed: " + e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new ConfigException(key, "cannot instantiate " + className + ": " + e);
    }
  }

  @Override
  public String precheck(Delivery delivery) {
    return null;
  }

  @Override
  public boolean storesPayload() {
    return false;
  }

  @Override
  public void applyAll(Connection connection, List<Delivery> deliveries) throws EffectException {
    Context context = new Context(GuardedConnection.wrap(connection), group);
    for (int i = 0; i < deliveries.size(); i++) {
      Delivery d = deliveries.get(i);
      context.trace = d.traceContext();
      try (Scope scope = context.trace.makeCurrent()) {
        handler.handle(d.message(), context);
      } catch (Exception | AssertionError | LinkageError e) {
        throw new EffectException(i, e);
      }
    }
  }

  @Override
  public void close() {
    if (handler instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing handler {} failed: {}", handler.getClass().getName(), e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "handler-class " + handler.getClass().getName();
  }

  private static final class Context implements HandlerContext {
    private final Connection connection;
    private final String group;
    private io.opentelemetry.context.Context trace;
    private DSLContext dsl;

    Context(Connection connection, String group) {
      this.connection = connection;
      this.group = group;
    }

    @Override
    public Connection connection() {
      return connection;
    }

    @Override
    public DSLContext dsl() {
      if (dsl == null) {
        dsl = DSL.using(connection, SQLDialect.POSTGRES);
      }
      return dsl;
    }

    @Override
    public String consumerGroup() {
      return group;
    }

    @Override
    public io.opentelemetry.context.Context traceContext() {
      return trace;
    }
  }
}
