package io.switchboard.relay.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Test fixture: mints HS256, ES256 and RS256 JWTs from claims with freshly generated keys (or a
 * given secret), and gives the public half as a JWK. Header and claims are free-form so tests can
 * forge whatever they try to break.
 */
public final class TokenMinter {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final String alg;
  private final String kid;
  private final byte[] secret;
  private final KeyPair pair;

  private TokenMinter(String alg, String kid, byte[] secret, KeyPair pair) {
    this.alg = alg;
    this.kid = kid;
    this.secret = secret;
    this.pair = pair;
  }

  /** Supabase's legacy secret: its UTF-8 bytes are the HMAC key; no kid. */
  public static TokenMinter hs256(String secret) {
    return new TokenMinter("HS256", null, secret.getBytes(StandardCharsets.UTF_8), null);
  }

  public static TokenMinter es256(String kid) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return new TokenMinter("ES256", kid, null, g.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static TokenMinter rs256(String kid) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return new TokenMinter("RS256", kid, null, g.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The same key pair under another kid (a JWKS listing one key twice, or another issuer reusing a kid). */
  public TokenMinter withKid(String newKid) {
    return new TokenMinter(alg, newKid, secret, pair);
  }

  public String alg() {
    return alg;
  }

  public String kid() {
    return kid;
  }

  /** Claims of a Supabase user token: sub, role authenticated, aud authenticated, iat now, exp in an hour. */
  public static JsonObject userClaims(String sub, long nowMs) {
    long now = nowMs / 1000;
    return new JsonObject().put("sub", sub).put("aud", "authenticated").put("role", "authenticated")
        .put("iat", now).put("exp", now + 3600);
  }

  /** The header this key signs with: its alg, its kid, typ JWT. */
  public JsonObject header() {
    JsonObject h = new JsonObject().put("alg", alg).put("typ", "JWT");
    if (kid != null) {
      h.put("kid", kid);
    }
    return h;
  }

  public String mint(JsonObject claims) {
    return mint(header(), claims);
  }

  /** Signs with this key whatever the header says (alg confusion tests set another alg). */
  public String mint(JsonObject header, JsonObject claims) {
    String input = b64(header) + "." + b64(claims);
    return input + "." + B64.encodeToString(sign(input.getBytes(StandardCharsets.US_ASCII)));
  }

  /** {@code alg: none}, no signature. */
  public static String unsigned(JsonObject claims) {
    return b64(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + b64(claims) + ".";
  }

  /**
   * The classic confusion: HS256 "signed" with the bytes of this key's public JWK JSON and of its
   * X.509 encoding (what a verifier that lets the token pick alg would use as the HMAC key).
   */
  public String[] hs256WithPublicKey(JsonObject claims) {
    JsonObject h = header().put("alg", "HS256");
    String input = b64(h) + "." + b64(claims);
    byte[][] keys = {jwk().encode().getBytes(StandardCharsets.UTF_8), pair.getPublic().getEncoded()};
    return Arrays.stream(keys).map(k -> input + "." + B64.encodeToString(hmac(k, input)))
        .toArray(String[]::new);
  }

  /** The public key as a JWK with kid, alg and use. */
  public JsonObject jwk() {
    if (pair == null) {
      throw new IllegalStateException("an HS256 secret has no public JWK");
    }
    JsonObject jwk = new JsonObject().put("kid", kid).put("alg", alg).put("use", "sig");
    if (pair.getPublic() instanceof RSAPublicKey rsa) {
      return jwk.put("kty", "RSA").put("n", unsigned(rsa.getModulus(), 0)).put("e", unsigned(rsa.getPublicExponent(), 0));
    }
    ECPublicKey ec = (ECPublicKey) pair.getPublic();
    return jwk.put("kty", "EC").put("crv", "P-256").put("x", unsigned(ec.getW().getAffineX(), 32))
        .put("y", unsigned(ec.getW().getAffineY(), 32));
  }

  public static JsonObject jwks(TokenMinter... keys) {
    JsonArray list = new JsonArray();
    for (TokenMinter k : keys) {
      list.add(k.jwk());
    }
    return new JsonObject().put("keys", list);
  }

  private byte[] sign(byte[] input) {
    if (secret != null) {
      return hmac(secret, new String(input, StandardCharsets.US_ASCII));
    }
    try {
      Signature s = Signature.getInstance(alg.equals("ES256") ? "SHA256withECDSAinP1363Format" : "SHA256withRSA");
      s.initSign((PrivateKey) pair.getPrivate());
      s.update(input);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(byte[] key, String input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(JsonObject json) {
    return B64.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** Big-endian magnitude without the sign byte, left-padded to {@code size} bytes when given. */
  private static String unsigned(BigInteger v, int size) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      b = Arrays.copyOfRange(b, 1, b.length);
    }
    if (size > b.length) {
      byte[] padded = new byte[size];
      System.arraycopy(b, 0, padded, size - b.length, b.length);
      b = padded;
    }
    return B64.encodeToString(b);
  }
}
