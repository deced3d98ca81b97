// Test-only: runs oidc-provider (the OpenID-certified Node provider) on 127.0.0.1 for the
// wallet's tests. Usage: node provider.mjs PORT
//
// The provider is the stock one with its own development login and consent pages
// (devInteractions: any login name is the subject, any password works). Each test case
// configures it with POST /__test__/config and a JSON body:
//   {"clients": [client metadata, as oidc-provider takes it],
//    "clockSkewSeconds": 0,   // the provider's clock runs this far ahead (or behind)
//    "idTokenTtl": 3600}      // seconds an ID token lives
// and gets a fresh provider (no sessions, grants or codes) under the same issuer and key.
// Nothing else is changed: the answers are oidc-provider's own.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const CONTROL = '/__test__/config';

// One signing key and cookie key for the life of the process: a reconfigured provider keeps
// publishing the same JWKS.
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'jwk' });
Object.assign(signingKey, { kid: 'node-test-1', use: 'sig', alg: 'RS256' });
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// oidc-provider reads the time through Date.now (its epochTime helper).
const realNow = Date.now.bind(Date);
let skewMs = 0;
Date.now = () => realNow() + skewMs;

function build(config) {
  skewMs = Math.trunc(Number(config.clockSkewSeconds || 0) * 1000);
  const long = 24 * 3600; // sessions and interactions outlast any clock skew we set
  return new Provider(issuer, {
    clients: config.clients || [],
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    claims: { openid: ['sub'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    ttl: {
      AuthorizationCode: 600,
      AccessToken: 3600,
      IdToken: Number(config.idTokenTtl || 3600),
      Interaction: long,
      Session: long,
      Grant: long,
    },
  });
}

let provider = build({});
let handler = provider.callback();

function control(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    try {
      provider = build(JSON.parse(body || '{}'));
      handler = provider.callback();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer }));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error && error.message) }));
    }
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === CONTROL) {
    control(req, res);
  } else {
    handler(req, res);
  }
});
server.listen(port, '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
