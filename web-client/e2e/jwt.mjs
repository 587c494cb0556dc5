// A Supabase-like token issuer for the browser E2E tests: an EC P-256 key pair, its JWKS served
// over HTTP on 127.0.0.1 (what SWITCHBOARD_AUTH_JWKS_URL points at) and ES256 JWTs signed with it.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';

const b64url = (data) => Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url');

/** A signing key with its JWK (kid, alg ES256) as a JWKS publishes it. */
export function es256Key(kid = randomUUID()) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, jwk };
}

/** A compact ES256 JWT; the signature is r‖s (ieee-p1363), as JOSE wants, not DER. */
export function signEs256(key, claims) {
  const input = `${b64url({ alg: 'ES256', typ: 'JWT', kid: key.kid })}.${b64url(claims)}`;
  const sig = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/**
 * Serves `{keys: [...]}` at /auth/v1/.well-known/jwks.json on 127.0.0.1 and mints tokens for it
 * with Supabase's claims (iss, sub, aud 'authenticated', role, exp, user_metadata).
 */
export async function startIssuer() {
  const key = es256Key();
  const server = createServer((req, res) => {
    if (req.url !== '/auth/v1/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    issuer.jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}/auth/v1`;
  const issuer = {
    key,
    iss: base,
    jwksUrl: `${base}/.well-known/jwks.json`,
    jwksFetches: 0,
    /** A token for `sub` valid `ttlSeconds` from now (exp has whole seconds). */
    mint(sub, { ttlSeconds = 3600, name, signWith = key, ...extra } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: base, sub, aud: 'authenticated', role: 'authenticated', iat: now, exp: now + ttlSeconds, ...extra };
      if (name) claims.user_metadata = { name };
      return signEs256(signWith, claims);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
  return issuer;
}
