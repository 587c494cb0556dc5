package io.switchboard.natlab;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The matrix as a markdown table, JSON and a PNG heatmap. */
public final class Report {
  private Report() {
  }

  public static String markdown(List<Row> rows) {
    StringBuilder md = new StringBuilder();
    md.append("| natA | natB | path | predicted (rule) | matched | classified A / B | candidates | delivered | dup | setupMs | rttMs | ok |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      md.append("| ").append(r.natA().wire()).append(" | ").append(r.natB().wire())
          .append(" | **").append(r.path()).append("** | ").append(r.predicted()).append(" (").append(r.reason()).append(")")
          .append(" | ").append(r.matched() ? "yes" : "**no**")
          .append(" | ").append(r.classA()).append(" / ").append(r.classB())
          .append(" | ").append(r.candidates())
          .append(" | ").append(r.delivered()).append("/").append(r.sent())
          .append(" | ").append(r.duplicates())
          .append(" | ").append(r.setupMs() == null ? "-" : r.setupMs())
          .append(" | ").append(r.rttMs() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.rttMs()))
          .append(" | ").append(r.ok() ? "✓" : "✗ " + String.join("; ", r.problems()).replace("|", "/"))
          .append(" |\n");
    }
    return md.toString();
  }

  public static void json(List<Row> rows, Path file) throws IOException {
    write(file, PairRunner.toJson(rows).encodePrettily() + "\n");
  }

  public static void markdown(List<Row> rows, Path file) throws IOException {
    write(file, markdown(rows));
  }

  private static void write(Path file, String text) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    Files.writeString(file, text);
  }

  /** A NAT×NAT grid (symmetric), each cell coloured by path; a red frame where the lab's checks failed. */
  public static void png(List<Row> rows, Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    NatType[] types = NatType.values();
    int cell = 120;
    int label = 130;
    int top = -60; // the column labels need one line, not a label's width
    int legend = 70;
    int size = label + cell * types.length + 20;
    BufferedImage img = new BufferedImage(size, top + label + cell * types.length + legend, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    g.drawString("Switchboard NAT lab: path per NAT pair (rows natA, columns natB)", 10, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    for (int i = 0; i < types.length; i++) {
      centered(g, types[i].wire(), label + i * cell, top + label - 20, cell);
      g.drawString(types[i].wire(), 8, top + label + i * cell + cell / 2 + 5);
    }
    for (Row r : rows) {
      for (int[] ij : new int[][] {{r.natA().ordinal(), r.natB().ordinal()}, {r.natB().ordinal(), r.natA().ordinal()}}) {
        int x = label + ij[1] * cell;
        int y = top + label + ij[0] * cell;
        g.setColor(colour(r));
        g.fillRect(x, y, cell, cell);
        g.setColor(Color.WHITE);
        g.setStroke(new BasicStroke(2));
        g.drawRect(x, y, cell, cell);
        if (!r.ok()) {
          g.setColor(new Color(200, 0, 0));
          g.setStroke(new BasicStroke(5));
          g.drawRect(x + 3, y + 3, cell - 6, cell - 6);
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        centered(g, r.path(), x, y + 35, cell);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        centered(g, (r.matched() ? "= " : "≠ ") + "steer " + r.predicted(), x, y + 58, cell);
        centered(g, r.setupMs() == null ? "-" : r.setupMs() + " ms setup", x, y + 78, cell);
        centered(g, r.delivered() + "/" + r.sent() + " msgs", x, y + 98, cell);
      }
    }
    int ly = top + label + cell * types.length + 25;
    int lx = 10;
    for (String p : List.of("direct", "turn", "relay", "failed")) {
      g.setColor(colour(p));
      g.fillRect(lx, ly, 22, 22);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.drawString(p, lx + 28, ly + 16);
      lx += 110;
    }
    g.drawString("red frame: a check failed", lx, ly + 16);
    g.dispose();
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    ImageIO.write(img, "png", file.toFile());
  }

  private static Color colour(Row r) {
    return colour(r.exactlyOnce() ? r.path() : "failed");
  }

  private static Color colour(String path) {
    return switch (path) {
      case "direct" -> new Color(110, 200, 120);
      case "turn" -> new Color(250, 200, 90);
      case "relay" -> new Color(140, 170, 220);
      default -> new Color(230, 90, 90);
    };
  }

  private static void centered(Graphics2D g, String text, int x, int y, int width) {
    FontMetrics fm = g.getFontMetrics();
    g.drawString(text, x + (width - fm.stringWidth(text)) / 2, y);
  }
}
