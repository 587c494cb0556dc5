import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
public class EchoServer {
  public static void main(String[] a) {
    Vertx vertx = Vertx.vertx();
    vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(18091))
      .webSocketHandler(ws -> ws.textMessageHandler(t -> ws.writeTextMessage(t.contains("hello") ? "{\"t\":\"welcome\"}" : "{\"t\":\"pong\",\"ts\":1}")))
      .listen().await();
    System.out.println("up");
  }
}
