// The GraphQL over HTTP audits of graphql-http against a running server, printed as JSON lines.
// Usage: node audit.mjs URL [API_KEY]; without a key the audits run as an anonymous client.
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);

function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithKey });
for (const result of results) {
  const reason = result.status === 'ok' ? null : result.reason;
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}
