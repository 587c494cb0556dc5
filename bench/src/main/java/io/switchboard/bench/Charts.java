package io.switchboard.bench;

import io.vertx.core.json.JsonArray;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;

/**
 * PNG line charts with Java2D and ImageIO (no chart library: two chart kinds do not justify a
 * dependency). Headless; one series per colour with a legend.
 */
final class Charts {
  private static final Color[] COLORS = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd)};
  private static final int W = 900;
  private static final int H = 560;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private Charts() {}

  /** [percentile, latency ms] points of a histogram: 0..99 in steps of 1, then the tail. */
  static JsonArray cdf(Histogram h) {
    JsonArray a = new JsonArray();
    if (h.getTotalCount() == 0) {
      return a;
    }
    List<Double> ps = new ArrayList<>();
    for (int p = 0; p < 99; p++) {
      ps.add((double) p);
    }
    for (double p : new double[] {99, 99.5, 99.9, 99.95, 99.99, 100}) {
      ps.add(p);
    }
    for (double p : ps) {
      long v = p >= 100 ? h.getMaxValue() : h.getValueAtPercentile(Math.max(p, 0.0001));
      a.add(new JsonArray().add(p).add(Math.round(v / 1000.0) / 1000.0));
    }
    return a;
  }

  /** Latency CDF: x = latency (ms, log scale), y = percentile. Series: name -> [[pct, ms]...]. */
  static void latencyCdf(Path png, String title, Map<String, JsonArray> series) throws IOException {
    Map<String, List<double[]>> xy = new LinkedHashMap<>();
    series.forEach((name, pts) -> {
      List<double[]> l = new ArrayList<>();
      for (int i = 0; i < pts.size(); i++) {
        JsonArray p = pts.getJsonArray(i);
        l.add(new double[] {Math.max(0.001, p.getDouble(1)), p.getDouble(0)});
      }
      if (!l.isEmpty()) {
        xy.put(name, l);
      }
    });
    line(png, title, "latency (ms, log scale)", "percentile", xy, true);
  }

  /** A line chart; {@code logX} puts x on a log10 scale. Series: name -> [x, y] points. */
  static void line(Path png, String title, String xLabel, String yLabel, Map<String, List<double[]>> series,
      boolean logX) throws IOException {
    double minX = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE;
    double maxY = 0;
    for (List<double[]> s : series.values()) {
      for (double[] p : s) {
        double x = logX ? Math.log10(p[0]) : p[0];
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        maxY = Math.max(maxY, p[1]);
      }
    }
    if (series.isEmpty()) {
      minX = 0;
      maxX = 1;
    }
    if (logX) {
      minX = Math.floor(minX);
      maxX = Math.ceil(maxX);
    } else {
      minX = Math.min(0, minX);
    }
    if (maxX <= minX) {
      maxX = minX + 1;
    }
    maxY = maxY <= 0 ? 1 : niceCeil(maxY);

    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.setColor(Color.BLACK);
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int pw = W - LEFT - RIGHT;
    int ph = H - TOP - BOTTOM;
    // grid and ticks
    for (int i = 0; i <= 5; i++) {
      double y = maxY * i / 5;
      int py = TOP + ph - (int) Math.round(ph * i / 5.0);
      g.setColor(new Color(0xe0e0e0));
      g.drawLine(LEFT, py, LEFT + pw, py);
      g.setColor(Color.DARK_GRAY);
      g.drawString(fmt(y), 8, py + 4);
    }
    int xTicks = logX ? (int) (maxX - minX) : 5;
    for (int i = 0; i <= xTicks; i++) {
      double x = minX + (maxX - minX) * i / xTicks;
      int px = LEFT + (int) Math.round(pw * i / (double) xTicks);
      g.setColor(new Color(0xe0e0e0));
      g.drawLine(px, TOP, px, TOP + ph);
      g.setColor(Color.DARK_GRAY);
      String label = logX ? fmt(Math.pow(10, x)) : fmt(x);
      g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, TOP + ph + 18);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, pw, ph);
    g.drawString(xLabel, LEFT + pw / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 15);
    g.drawString(yLabel, 8, TOP - 10);
    // series
    int ci = 0;
    int legendY = TOP + 20;
    g.setStroke(new BasicStroke(2f));
    for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
      Color c = COLORS[ci++ % COLORS.length];
      g.setColor(c);
      int lastX = -1;
      int lastY = -1;
      for (double[] p : e.getValue()) {
        double x = logX ? Math.log10(p[0]) : p[0];
        int px = LEFT + (int) Math.round(pw * (x - minX) / (maxX - minX));
        int py = TOP + ph - (int) Math.round(ph * p[1] / maxY);
        if (lastX >= 0) {
          g.drawLine(lastX, lastY, px, py);
        }
        g.fillOval(px - 2, py - 2, 4, 4);
        lastX = px;
        lastY = py;
      }
      g.fillRect(LEFT + 15, legendY - 9, 14, 10);
      g.setColor(Color.BLACK);
      g.drawString(e.getKey(), LEFT + 35, legendY);
      legendY += 18;
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  private static double niceCeil(double v) {
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (v <= m * mag) {
        return m * mag;
      }
    }
    return 10 * mag;
  }

  private static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) {
      return Long.toString((long) v);
    }
    return Math.abs(v) >= 10 ? String.format("%.0f", v) : String.format("%.3g", v);
  }
}
