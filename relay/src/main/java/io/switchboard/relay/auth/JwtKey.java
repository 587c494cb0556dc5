package io.switchboard.relay.auth;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A verification key and the one algorithm it verifies. The algorithm is the key's (the JWK's
 * {@code alg}, else its {@code kty}/{@code crv}; HS256 for the shared secret), never the token's:
 * a token whose header names another is refused before any crypto runs.
 */
public record JwtKey(String kid, String alg, Key key) {
  public static final String HS256 = "HS256";
  public static final String RS256 = "RS256";
  public static final String ES256 = "ES256";
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  /** Supabase's legacy JWT secret: its UTF-8 bytes are the HMAC key, as Supabase signs with them. */
  public static JwtKey secret(byte[] secret) {
    return new JwtKey(null, HS256, new SecretKeySpec(secret, "HmacSHA256"));
  }

  /**
   * A public key from a JWKS entry; null for entries this relay does not verify with (symmetric
   * {@code oct} keys, other curves or algorithms, {@code use} other than {@code sig}, malformed).
   */
  public static JwtKey fromJwk(JsonObject jwk) {
    try {
      String use = jwk.getString("use");
      if (use != null && !use.equals("sig")) {
        return null;
      }
      String kty = jwk.getString("kty");
      String declared = jwk.getString("alg");
      String alg;
      PublicKey key;
      if ("RSA".equals(kty)) {
        alg = RS256;
        key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(big(jwk, "n"), big(jwk, "e")));
      } else if ("EC".equals(kty) && "P-256".equals(jwk.getString("crv"))) {
        alg = ES256;
        AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
        params.init(new ECGenParameterSpec("secp256r1"));
        ECPoint w = new ECPoint(big(jwk, "x"), big(jwk, "y"));
        key = KeyFactory.getInstance("EC").generatePublic(
            new ECPublicKeySpec(w, params.getParameterSpec(ECParameterSpec.class)));
      } else {
        return null;
      }
      // a JWK may name its alg; one that contradicts the key type (RS512 on RSA, HS256 on EC) is unusable
      if (declared != null && !declared.equals(alg)) {
        return null;
      }
      String kid = jwk.getString("kid");
      return new JwtKey(kid == null ? "" : kid, alg, key);
    } catch (GeneralSecurityException | RuntimeException e) {
      return null;
    }
  }

  private static BigInteger big(JsonObject jwk, String field) {
    String v = jwk.getString(field);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("JWK without " + field);
    }
    return new BigInteger(1, B64.decode(v));
  }

  /** Checks {@code signature} over {@code input} (the token's {@code header.payload} bytes). */
  public boolean verify(byte[] input, byte[] signature) {
    try {
      switch (alg) {
        case HS256 -> {
          Mac mac = Mac.getInstance("HmacSHA256");
          mac.init(key);
          return MessageDigest.isEqual(mac.doFinal(input), signature);
        }
        case ES256 -> {
          // JWS carries r||s (64 bytes), not DER
          if (signature.length != 64) {
            return false;
          }
          return verify("SHA256withECDSAinP1363Format", input, signature);
        }
        case RS256 -> {
          return verify("SHA256withRSA", input, signature);
        }
        default -> {
          return false;
        }
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private boolean verify(String algorithm, byte[] input, byte[] signature) throws GeneralSecurityException {
    Signature s = Signature.getInstance(algorithm);
    s.initVerify((PublicKey) key);
    s.update(input);
    return s.verify(signature);
  }
}
