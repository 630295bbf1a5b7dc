// Passkeys (issue 15) in Chromium, with a virtual authenticator added through the DevTools
// protocol (WebAuthn.addVirtualAuthenticator over Playwright's CDP session): a passkey is
// added on Mijn account, used as the second step (PASSKEY beside AUTHENTICATOR APP) and for
// "Inloggen met een passkey"; without JavaScript the pages say what to do instead. axe-core
// on every page, screenshots into e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture } from './lib/pages.mjs';
import { logIn, readyUser } from './lib/users.mjs';

let mailbox;
let server;
let browser;

before(async () => {
  mailbox = await startMailbox();
  server = await startServer({ smtpPort: mailbox.port, host: 'localhost' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.');
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await mailbox?.close();
});

/** A page whose browser has a platform authenticator with user verification (a laptop's
 * fingerprint reader, say), which always says yes. */
async function pageWithAuthenticator() {
  const context = await browser.newContext({ locale: 'nl-NL', viewport: DESKTOP });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}

describe('passkeys in a browser', () => {
  test('add a passkey, then log in with it as the second step and in one step', async () => {
    const { page, cdp, authenticatorId } = await pageWithAuthenticator();
    await readyUser({ server, mailbox, page, username: 'piet' });
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.getByText('Nog geen passkey.').waitFor();

    // Passkey toevoegen: a name, then the browser's own dialog (here: the virtual device).
    await page.getByRole('link', { name: 'Passkey toevoegen' }).click();
    await page.getByRole('heading', { name: 'Passkeys', level: 1 }).waitFor();
    await capture(page, 'passkeys-empty');
    await page.getByLabel('Naam van de passkey').fill('Laptop werk');
    await page.getByRole('button', { name: 'PASSKEY TOEVOEGEN' }).click();
    await page.waitForURL('**/account/passkeys?notice=added');
    await page.getByText('Je passkey is toegevoegd.').waitFor();
    await page.getByText(/Laptop werk, toegevoegd op/).waitFor();
    await capture(page, 'passkeys-added');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true, 'discoverable');
    assert.equal(credentials[0].rpId, 'localhost');

    // As the second step, beside AUTHENTICATOR APP.
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'UITLOGGEN' }).first().click();
    await page.waitForURL('**/login?notice=logged_out');
    await logIn(page, 'piet');
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).waitFor();
    await capture(page, 'choose-with-passkey');
    await page.getByRole('button', { name: 'PASSKEY' }).click();
    await page.waitForURL('**/2fa/passkey');
    await capture(page, 'passkey-second-step');
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.getByText('Passkeys: 1.').waitFor();

    // Inloggen met een passkey: no username, password or code.
    await page.getByRole('button', { name: 'UITLOGGEN' }).first().click();
    await page.waitForURL('**/login?notice=logged_out');
    await page.getByRole('link', { name: 'Inloggen met een passkey' }).click();
    await page.waitForURL('**/login/passkey');
    await capture(page, 'passkey-login');
    await page.getByRole('button', { name: 'INLOGGEN MET PASSKEY' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.getByText('Ingelogd met een passkey').first().waitFor();
    await page.context().close();
  });

  test('without JavaScript the passkey page says what to do instead', async () => {
    const context = await browser.newContext({ locale: 'nl-NL', viewport: DESKTOP, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/login/passkey`);
    // Playwright's text locators skip <noscript>; what the browser renders is read instead.
    const shown = await page.evaluate(() => document.body.innerText);
    assert.ok(shown.includes('Voor passkeys is JavaScript nodig.'), shown);
    assert.equal(await page.getByRole('button', { name: 'INLOGGEN MET PASSKEY' }).isVisible(), false);
    await page.getByRole('link', { name: 'Inloggen met wachtwoord' }).waitFor();
    await context.close();
  });
});
