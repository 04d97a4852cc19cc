package io.txoutbox.consumer.internals;

import java.sql.Connection;
import java.util.List;

/**
 * How the business effect of new messages is applied inside the inbox transaction: the SQL handler,
 * the Java handler, or nothing (store-only). Called only from the poll thread.
 */
public interface Effect extends AutoCloseable {

  /**
   * Why this handler can never apply the message as it is (for example a payload that is not UTF-8
   * for a SQL handler, which takes text), or null. Such messages are parked without being tried.
   */
  String precheck(Delivery delivery);

  /** Whether the inbox keeps the payload for the application (store-only mode). */
  boolean storesPayload();

  /**
   * Applies the messages in order, in the caller's transaction.
   *
   * @throws EffectException when one fails; its index says which, when known
   */
  void applyAll(Connection connection, List<Delivery> deliveries) throws EffectException;

  /** Releases the handler at shutdown. Never throws. */
  @Override
  void close();

  /** Store-only mode: nothing to apply, the application processes the inbox rows. */
  static Effect storeOnly() {
    return new Effect() {
      @Override
      public String precheck(Delivery delivery) {
        return null;
      }

      @Override
      public boolean storesPayload() {
        return true;
      }

      @Override
      public void applyAll(Connection connection, List<Delivery> deliveries) {}

      @Override
      public void close() {}

      @Override
      public String toString() {
        return "store-only";
      }
    };
  }
}
