// The development mailbox (/dev/mail, a server without smtp_url) in Chromium: HIER in the
// framed HTML mail leaves the frame for the activation page (which refuses to be framed), the
// link in the text part is clickable, the set-up mail is not cut off, the list fits a 375 px
// phone, and times are Dutch local time. Screenshots into e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from './lib/harness.mjs';
import { DESKTOP, PHONE, capture } from './lib/pages.mjs';
import { PASSWORD, logIn } from './lib/users.mjs';

let server;
let browser;

before(async () => {
  // No SMTP server: every mail lands in the development mailbox.
  server = await startServer({ smtpPort: 0, extraEnv: { POORTWACHTER_SMTP_URL: '' } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.');
  await server.cli('user', 'invite', '--org', 'acme', '--username', 'jan', '--email', 'jan@example.nl',
    '--name', 'Jan de Vries');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function firstMail(page) {
  for (let tries = 0; tries < 50; tries += 1) {
    await page.goto(`${server.url}/dev/mail`);
    if (await page.getByRole('link', { name: /Activeer je account/ }).count()) return;
    await new Promise((wake) => setTimeout(wake, 200));
  }
  throw new Error('the invitation never reached the development mailbox');
}

describe('the development mailbox in a browser', () => {
  test('HIER leaves the frame, the text link works, the list fits a phone', async () => {
    const phone = await (await browser.newContext({ locale: 'nl-NL', viewport: PHONE })).newPage();
    await firstMail(phone);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the list runs ${overflow} px off a 375 px screen`);
    const received = await phone.locator('tbody td').nth(3).innerText();
    assert.match(received, / om \d\d:\d\d/, `Dutch local time: ${received}`);
    assert.doesNotMatch(received, /UTC/);
    await capture(phone, 'list');

    const page = await (await browser.newContext({ locale: 'nl-NL', viewport: DESKTOP })).newPage();
    await firstMail(page);
    await page.getByRole('link', { name: /Activeer je account/ }).click();
    await capture(page, 'invitation');
    const frame = page.frameLocator('iframe.mail-frame');
    await frame.getByRole('link', { name: 'HIER' }).click();
    await page.waitForURL(/\/invite\//);
    await page.getByRole('button', { name: 'OPSLAAN' }).waitFor();

    await firstMail(page);
    await page.getByRole('link', { name: /Activeer je account/ }).click();
    const textLink = page.locator('pre.mail-text a');
    assert.match(await textLink.getAttribute('href'), /\/invite\//);
    await textLink.click();
    await page.getByRole('button', { name: 'OPSLAAN' }).waitFor();

    // On to the set-up mail (QR code, key, steps): shown whole, without a cut.
    await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
    await page.getByLabel('Herhaal wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.waitForURL('**/login?notice=activated*');
    await logIn(page, 'jan');
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    await page.goto(`${server.url}/dev/mail`);
    await page.getByRole('link', { name: /aanvraagcode/ }).first().click();
    const shown = page.locator('iframe.mail-frame');
    const height = await shown.evaluate((f) => f.clientHeight);
    // The framed mail is sandboxed (another origin): measured from inside the frame.
    const content = await page.frameLocator('iframe.mail-frame').locator('html')
      .evaluate((html) => html.scrollHeight);
    assert.ok(content <= height, `the set-up mail is ${content} px high in a ${height} px frame`);
    await capture(page, 'set-up-mail');
  });
});
