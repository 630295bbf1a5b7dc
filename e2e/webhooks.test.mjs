// Webhooks (issue 26) checked by an independent implementation: a receiver built on Node's
// http module verifies every delivery with the `standardwebhooks` npm package (the Standard
// Webhooks specification's own library), before and during a secret rotation, and a body
// changed on the way is refused by it.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freePort, startMailbox, startServer } from './lib/harness.mjs';

let mailbox;
let server;
let receiver;
const received = [];

before(async () => {
  mailbox = await startMailbox();
  server = await startServer({
    smtpPort: mailbox.port,
    extraEnv: {
      // A receiver on this machine over http is allowed in development only.
      POORTWACHTER_DEV_MODE: 'true',
      POORTWACHTER_AUDIT_SEAL_MS: '100',
      POORTWACHTER_WEBHOOK_POLL_MS: '100',
    },
  });
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.');
  const port = await freePort();
  receiver = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise((done) => receiver.listen(port, '127.0.0.1', done));
  receiver.url = `http://127.0.0.1:${port}/hooks`;
});

after(async () => {
  await server?.stop();
  await mailbox?.close();
  receiver?.close();
});

async function deliveries(count) {
  const deadline = Date.now() + 20000;
  while (received.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} deliveries`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
  return received.slice(0, count);
}

const secretIn = (out) => out.split('\n').find((l) => l.startsWith('secret: ')).slice('secret: '.length);

describe('webhooks checked with the standardwebhooks package', () => {
  test('every delivery verifies, with either secret during a rotation', async () => {
    const added = await server.cli('webhook', 'add', '--org', 'acme', '--url', receiver.url,
      '--events', 'user.invited');
    const first = secretIn(added);
    const id = added.split(' ')[0];
    await server.cli('user', 'invite', '--org', 'acme', '--username', 'noor',
      '--email', 'noor@example.nl', '--name', 'Noor');
    const [one] = await deliveries(1);
    const event = new Webhook(first).verify(one.body, one.headers);
    assert.equal(event.type, 'user.invited');
    assert.equal(event.data.username, 'noor');
    assert.equal(event.data.organization, 'acme');

    // A body changed on the way does not verify.
    assert.throws(() => new Webhook(first).verify(one.body.replace('noor', 'bram'), one.headers));

    const rotated = await server.cli('webhook', 'rotate-secret', id);
    const second = secretIn(rotated);
    assert.notEqual(second, first);
    await server.cli('user', 'invite', '--org', 'acme', '--username', 'bram',
      '--email', 'bram@example.nl', '--name', 'Bram');
    const [, two] = await deliveries(2);
    for (const secret of [first, second]) {
      assert.equal(new Webhook(secret).verify(two.body, two.headers).data.username, 'bram');
    }
    assert.notEqual(one.headers['webhook-id'], two.headers['webhook-id']);
  });
});
