package io.txoutbox.runtime;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Prints query results as aligned text tables, for the daemons' {@code status} commands. */
public final class SqlReport {
  private SqlReport() {}

  /**
   * Runs {@code sql} with {@code params} and prints a titled table of its rows ({@code (none)} when
   * empty). NULL prints as an empty cell.
   */
  public static void print(
      PrintStream out, Connection connection, String title, String sql, Object... params)
      throws SQLException {
    List<String[]> rows = new ArrayList<>();
    String[] header;
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        ResultSetMetaData md = rs.getMetaData();
        header = new String[md.getColumnCount()];
        for (int c = 0; c < header.length; c++) {
          header[c] = md.getColumnLabel(c + 1);
        }
        while (rs.next()) {
          String[] row = new String[header.length];
          for (int c = 0; c < header.length; c++) {
            String v = rs.getString(c + 1);
            row[c] = v == null ? "" : v;
          }
          rows.add(row);
        }
      }
    }
    out.println(title);
    if (rows.isEmpty()) {
      out.println("  (none)");
      out.println();
      return;
    }
    int[] width = new int[header.length];
    for (int c = 0; c < header.length; c++) {
      width[c] = header[c].length();
      for (String[] row : rows) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    out.println(line(header, width));
    for (String[] row : rows) {
      out.println(line(row, width));
    }
    out.println();
  }

  private static String line(String[] cells, int[] width) {
    StringBuilder sb = new StringBuilder(" ");
    for (int c = 0; c < cells.length; c++) {
      sb.append(' ').append(String.format("%-" + width[c] + "s", cells[c]));
    }
    return sb.toString().stripTrailing();
  }
}
