// Toegang op orde (issue 27) in a real browser: an employee with the app set up is ready and
// gets no look-ahead mail; after a login with a herstelcode (the phone is gone) the
// look-ahead pass, run as if a day later, mails her over real SMTP; the mail's HIER opens
// Toegang controleren, the test login (password, a herstelcode) comes back to it, and it
// shows what to fix with the link to a new phone. HR's overview lists her with the action.
// axe-core on every page, screenshots into e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture, showMail } from './lib/pages.mjs';
import { about, logIn, readyUser } from './lib/users.mjs';

let mailbox;
let server;
let browser;

before(async () => {
  mailbox = await startMailbox();
  server = await startServer({ smtpPort: mailbox.port });
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

async function newPage() {
  const context = await browser.newContext({ locale: 'nl-NL', viewport: DESKTOP });
  return context.newPage();
}

/** `YYYY-MM-DD`, `days` from now (UTC). */
const dayFromNow = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);

async function withHerstelcode(page, code) {
  await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
  await page.getByRole('link', { name: 'Geen toegang tot je app? Gebruik een herstelcode' }).click();
  await page.getByLabel('Herstelcode').fill(code);
  await page.getByRole('button', { name: 'INLOGGEN' }).click();
  await page.getByText('Je bent ingelogd met een herstelcode.', { exact: false }).waitFor();
}

describe('Toegang op orde in a browser', () => {
  test('a ready user gets nothing; after a herstelcode the mail, the test login and the fix', async () => {
    const page = await newPage();
    const { codes, email } = await readyUser({ server, mailbox, page, username: 'noor' });
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.context().close();

    // The application expects her in three days; as if it were tomorrow morning: she is
    // ready, so no mail.
    await server.cli('access', 'expect', '--org', 'acme', '--username', 'noor',
      '--key', 'plan_van_aanpak', '--on', dayFromNow(3), '--label', 'plan van aanpak');
    const tomorrow = `${dayFromNow(1)}T09:00:00Z`;
    assert.match(await server.cli('access', 'look-ahead', '--at', tomorrow), /0 mail\(s\) queued/);

    // Her phone is gone: she logs in with a herstelcode. Now the pass mails her, once.
    const lost = await newPage();
    await lost.goto(`${server.url}/login`);
    await logIn(lost, 'noor');
    await withHerstelcode(lost, codes[0]);
    await lost.context().close();
    assert.match(await server.cli('access', 'look-ahead', '--at', tomorrow), /1 mail\(s\) queued/);
    const mail = await mailbox.waitFor(about(email, /Controleer of je nog kunt inloggen/), 'look-ahead mail');
    assert.ok(mail.text.includes('Je logde de vorige keer in met een herstelcode.'), mail.text);
    assert.ok(!mail.text.includes('plan van aanpak'), 'the label stays out of the mail');
    const mailPage = await newPage();
    await showMail(mailPage, mail);
    await capture(mailPage, 'look-ahead-mail');
    await mailPage.context().close();
    assert.match(await server.cli('access', 'look-ahead', '--at', tomorrow), /0 mail\(s\) queued/);

    // HIER: Toegang controleren, then the test login — with a herstelcode again.
    const check = await newPage();
    await check.goto(mail.html.match(/<a href="([^"]+)"[^>]*>HIER<\/a>/)[1]);
    await check.getByRole('heading', { name: 'Toegang controleren' }).waitFor();
    await capture(check, 'access-check-intro');
    await check.getByRole('link', { name: 'INLOGGEN' }).click();
    await logIn(check, 'noor');
    await withHerstelcode(check, codes[1]);
    await check.getByRole('link', { name: 'VERDER' }).click();
    await check.waitForURL('**/toegang');
    await check.getByText('Inloggen lukt, maar regel dit nu:').waitFor();
    await check.getByText('Je logde de vorige keer in met een herstelcode.', { exact: false }).waitFor();
    await capture(check, 'access-check-result');
    await check.getByRole('link', { name: 'Nieuwe telefoon instellen' }).click();
    await check.waitForURL('**/account/new-phone');
    await check.context().close();

    // HR's overview: noor at risk, with the reset of her app as the action.
    const overview = await server.cli('access', 'overview', '--org', 'acme');
    assert.match(overview, /noor\s+\S+\s+at_risk\s+reset_two_step\s+recovery_code_used_last/);
  });
});
