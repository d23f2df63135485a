// Sustained mixed load on a gateway for the soak test (docs/faults.md): every connection alternates a non-streaming and a
// streaming /v1/messages call for the given duration, then prints one JSON summary line.
// Usage: node soak.js <base url> <client key> <model> [seconds=20] [connections=8] [calls per second, 0 = as fast as possible]
'use strict';

const autocannon = require('autocannon');

const [baseUrl, key, model, seconds, connections, rate] = process.argv.slice(2);
if (!baseUrl || !key || !model) {
  console.error('usage: node soak.js <base url> <client key> <model> [seconds=20] [connections=8] [calls per second]');
  process.exit(2);
}

const body = (stream) => JSON.stringify({
  model,
  max_tokens: 64,
  stream,
  messages: [{ role: 'user', content: 'soak' }],
});

autocannon({
  url: new URL('/v1/messages', baseUrl).toString(),
  method: 'POST',
  headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
  requests: [{ body: body(false) }, { body: body(true) }],
  duration: Number(seconds || 20),
  connections: Number(connections || 8),
  overallRate: Number(rate || 0) || undefined,
  timeout: 30,
}, (error, result) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }

  console.log(JSON.stringify({
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    rps: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    duration: result.duration,
  }));
});
