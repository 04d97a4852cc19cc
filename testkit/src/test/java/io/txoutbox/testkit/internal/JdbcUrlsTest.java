package io.txoutbox.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {

  @Test
  void pointsAUrlAtAProxyKeepingDatabaseAndParameters() {
    assertThat(
            JdbcUrls.withHostPort(
                "jdbc:postgresql://localhost:5432/app?sslmode=disable", "127.0.0.1:40001"))
        .isEqualTo("jdbc:postgresql://127.0.0.1:40001/app?sslmode=disable");
    assertThat(JdbcUrls.withHostPort("jdbc:postgresql://db/app", "127.0.0.1:40001"))
        .isEqualTo("jdbc:postgresql://127.0.0.1:40001/app");
  }

  @Test
  void readsHostAndPortWithTheDefaultPort() {
    assertThat(JdbcUrls.hostPort("jdbc:postgresql://127.0.0.1:28048/x?a=b"))
        .isEqualTo("127.0.0.1:28048");
    assertThat(JdbcUrls.hostPort("jdbc:postgresql://db/x")).isEqualTo("db:5432");
  }

  @Test
  void refusesWhatItCannotRewrite() {
    assertThatThrownBy(() -> JdbcUrls.hostPort("jdbc:postgresql://a:1,b:2/x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JdbcUrls.withHostPort("jdbc:mysql://a/x", "b:1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
