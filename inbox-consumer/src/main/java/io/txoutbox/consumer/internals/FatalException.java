package io.txoutbox.consumer.internals;

/**
 * A failure retrying cannot fix (authentication, privilege, an incompatible server): the daemon
 * stops with exit code 4.
 */
public final class FatalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FatalException(Throwable cause) {
    super(Errors.describe(cause), cause);
  }
}
