package io.switchboard.relay.store;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

/**
 * Why a TLS handshake with Postgres fails, found by doing it again with the JDK's own socket:
 * vertx-pg-client 5.0.8 reports every such failure as a bare "SSL handshake failed" with no cause.
 * Blocking; only run after a failed start.
 */
final class TlsDiagnosis {
  /** Postgres's SSLRequest code (protocol 1234.5679). */
  private static final int SSL_REQUEST = 80877103;

  private TlsDiagnosis() {
  }

  /**
   * @param rootCert   PEM file of the CA(s) to trust, or null for the JDK trust store
   * @param verifyHost whether the certificate must name {@code host} (verify-full)
   * @return the reason, or null when the handshake succeeds this time
   */
  static String why(String host, int port, String rootCert, boolean verifyHost, int timeoutMs) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), timeoutMs);
      socket.setSoTimeout(timeoutMs);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(8);
      out.writeInt(SSL_REQUEST);
      out.flush();
      if (socket.getInputStream().read() != 'S') {
        return "the server does not accept TLS (ssl = off in postgresql.conf?)";
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust(rootCert).getTrustManagers(), null);
      try (SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, host, port, true)) {
        if (verifyHost) {
          SSLParameters params = tls.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS");
          tls.setSSLParameters(params);
        }
        tls.startHandshake();
        return null;
      }
    } catch (SSLException e) {
      return classify(e, host);
    } catch (IOException | GeneralSecurityException e) {
      return e.toString();
    }
  }

  private static String classify(SSLException e, String host) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (t instanceof java.security.cert.CertPathValidatorException
          || t instanceof java.security.cert.CertPathBuilderException || message.contains("PKIX")) {
        return "the server's certificate is not signed by the CA in sslrootcert (or, without sslrootcert, by one"
          + " the JDK trusts)";
      }
      if (message.contains("No subject alternative") || message.contains("No name matching")) {
        return "the server's certificate does not name host " + host
          + " (verify-full checks DATABASE_URL's host against it; verify-ca would not)";
      }
    }
    return e.toString();
  }

  private static TrustManagerFactory trust(String rootCert) throws IOException, GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    if (rootCert == null) {
      factory.init((KeyStore) null);
      return factory;
    }
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(rootCert))) {
      int i = 0;
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, cert);
      }
    }
    factory.init(store);
    return factory;
  }
}
