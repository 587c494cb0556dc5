import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Chat ack latency (send -> ack stored:true) with and without a concurrent HTTP history-read flood.
 * Usage: java HistoryFloodProbe.java PORT MODE SECONDS CONCURRENCY MAXREQUESTS [RATE]; MODE seed (a room of 600 x 4 KB), 0 (chat only), 1 (seed + chat + flood in one JVM), 2 (flood only)
 * Loopback only; every loop is bounded in count and time.
 */
public class HistoryFloodProbe {
  static final Pattern ACK = Pattern.compile("\"t\":\"ack\".*\"cid\":\"([^\"]+)\".*\"stored\":true");

  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    boolean flood = a[1].equals("1");
    int seconds = Integer.parseInt(a[2]);
    int concurrency = Integer.parseInt(a[3]);
    int maxRequests = Integer.parseInt(a[4]);
    int rate = a.length > 5 ? Integer.parseInt(a[5]) : 0; // history requests/s; 0 = as fast as answers come
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    String base = "ws://127.0.0.1:" + port + "/ws";
    if (a[1].equals("2")) {
      floodOnly(http, port, seconds, concurrency, maxRequests, rate);
      return;
    }
    if (a[1].equals("seed")) {
      seed(http, "ws://127.0.0.1:" + port + "/ws");
      System.exit(0);
    }
    if (flood) {
      seed(http, base);
    }
    // Chat: 20 users in 4 rooms, 2 messages/s each.
    List<Client> users = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Client c = new Client(http, base);
      c.sendText("{\"t\":\"hello\"}");
      c.await("welcome");
      c.sendText("{\"t\":\"join\",\"room\":\"chat" + (i % 4) + "\"}");
      c.await("joined");
      users.add(c);
    }
    AtomicInteger ok = new AtomicInteger(), r503 = new AtomicInteger(), r429 = new AtomicInteger(), other = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Thread flooder = new Thread(() -> {
      Semaphore inFlight = new Semaphore(concurrency);
      java.util.Random rnd = new java.util.Random(1);
      long t0 = System.nanoTime();
      for (int n = 0; n < maxRequests && System.nanoTime() < end; n++) {
        if (rate > 0) {
          long due = t0 + n * 1_000_000_000L / rate;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
          }
        }
        try {
          if (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) {
            continue;
          }
        } catch (InterruptedException e) {
          return;
        }
        int before = 1 + rnd.nextInt(300);
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/rooms/archive/messages?before="
            + before + "&limit=100")).timeout(Duration.ofSeconds(30)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
          inFlight.release();
          if (e != null) other.incrementAndGet();
          else if (r.statusCode() == 200) ok.incrementAndGet();
          else if (r.statusCode() == 503) r503.incrementAndGet();
          else if (r.statusCode() == 429) r429.incrementAndGet();
          else other.incrementAndGet();
        });
      }
    });
    if (flood) {
      flooder.start();
      Thread.sleep(1000);
    }
    long start = System.nanoTime();
    int seq = 0;
    while (System.nanoTime() < end) {
      long tick = System.nanoTime();
      for (Client c : users) {
        String cid = "m" + (seq++);
        c.sent.put(cid, System.nanoTime());
        c.sendText("{\"t\":\"send\",\"room\":\"chat" + (users.indexOf(c) % 4) + "\",\"cid\":\"" + cid + "\",\"body\":\"hi\"}");
      }
      long sleep = 500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tick);
      if (sleep > 0) Thread.sleep(sleep);
    }
    Thread.sleep(3000);
    flooder.join(60_000);
    List<Long> lat = new ArrayList<>();
    int missing = 0;
    for (Client c : users) {
      for (Map.Entry<String, Long> e : c.sent.entrySet()) {
        Long at = c.acked.get(e.getKey());
        if (at == null) missing++; else lat.add(at - e.getValue());
      }
    }
    Collections.sort(lat);
    System.out.printf("flood=%s sent=%d acked=%d missing=%d ack p50=%.1f ms p99=%.1f ms max=%.1f ms | history 200=%d 503=%d 429=%d other=%d%n",
        flood, seq, lat.size(), missing, pct(lat, 0.5), pct(lat, 0.99), lat.isEmpty() ? 0 : lat.get(lat.size() - 1) / 1e6,
        ok.get(), r503.get(), r429.get(), other.get());
    System.exit(0);
  }

  static void seed(HttpClient http, String base) throws Exception {
    Client seeder = new Client(http, base);
    seeder.sendText("{\"t\":\"hello\"}");
    seeder.await("welcome");
    seeder.sendText("{\"t\":\"join\",\"room\":\"archive\"}");
    seeder.await("joined");
    String body = "x".repeat(4000);
    for (int i = 0; i < 600; i++) {
      seeder.sendText("{\"t\":\"send\",\"room\":\"archive\",\"cid\":\"s" + i + "\",\"body\":\"" + body + "\"}");
    }
    seeder.awaitAcks(600, 60);
  }

  static void floodOnly(HttpClient http, int port, int seconds, int concurrency, int maxRequests, int rate) throws Exception {
    AtomicInteger ok = new AtomicInteger(), r503 = new AtomicInteger(), r429 = new AtomicInteger(), other = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Semaphore inFlight = new Semaphore(concurrency);
    java.util.Random rnd = new java.util.Random(1);
    long t0 = System.nanoTime();
    for (int n = 0; n < maxRequests && System.nanoTime() < end; n++) {
      if (rate > 0) {
        long wait = t0 + n * 1_000_000_000L / rate - System.nanoTime();
        if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      if (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) continue;
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/rooms/archive/messages?before="
          + (1 + rnd.nextInt(300)) + "&limit=100")).timeout(Duration.ofSeconds(30)).build();
      http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
        inFlight.release();
        if (e != null) other.incrementAndGet();
        else if (r.statusCode() == 200) ok.incrementAndGet();
        else if (r.statusCode() == 503) r503.incrementAndGet();
        else if (r.statusCode() == 429) r429.incrementAndGet();
        else other.incrementAndGet();
      });
    }
    inFlight.tryAcquire(concurrency, 30, TimeUnit.SECONDS);
    System.out.printf("flooder: history 200=%d 503=%d 429=%d other=%d%n", ok.get(), r503.get(), r429.get(), other.get());
    System.exit(0);
  }

  static double pct(List<Long> l, double p) {
    return l.isEmpty() ? Double.NaN : l.get(Math.min(l.size() - 1, (int) Math.floor(p * l.size()))) / 1e6;
  }

  static final class Client implements WebSocket.Listener {
    final WebSocket ws;
    final Map<String, Long> sent = new ConcurrentHashMap<>();
    final Map<String, Long> acked = new ConcurrentHashMap<>();
    final java.util.concurrent.LinkedBlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    StringBuilder partial = new StringBuilder();
    final AtomicLong storedAcks = new AtomicLong();

    Client(HttpClient http, String url) throws Exception {
      ws = http.newWebSocketBuilder().buildAsync(URI.create(url), this).get(10, TimeUnit.SECONDS);
    }

    synchronized void sendText(String s) {
      ws.sendText(s, true).join();
    }

    void await(String type) throws Exception {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < until) {
        String f = frames.poll(1, TimeUnit.SECONDS);
        if (f != null && f.contains("\"t\":\"" + type + "\"")) return;
      }
      throw new IllegalStateException("no " + type);
    }

    void awaitAcks(int n, int seconds) throws Exception {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (storedAcks.get() < n && System.nanoTime() < until) Thread.sleep(50);
    }

    @Override
    public CompletableFuture<?> onText(WebSocket w, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String f = partial.toString();
        partial = new StringBuilder();
        Matcher m = ACK.matcher(f);
        if (m.find()) {
          acked.putIfAbsent(m.group(1), System.nanoTime());
          storedAcks.incrementAndGet();
        } else if (!f.contains("\"t\":\"msg\"") && !f.contains("\"t\":\"ack\"")) {
          frames.add(f);
        }
      }
      w.request(1);
      return null;
    }
  }
}
