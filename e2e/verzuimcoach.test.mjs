// Poortwachter in front of an application: the Verzuimcoach demo (demo/verzuimcoach, a
// relying party built on the openidconnect crate) in Debian's chromium. The guide's whole
// journey, from the invitation to the code, starts at the application's "Inloggen" and ends
// on "Je bent nu succesvol ingelogd in Verzuimcoach"; logging out there, and OVERAL
// UITLOGGEN in Poortwachter, both end the application's session. Every new page is checked
// with axe-core and screenshot.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { chromium } from 'playwright-core';
import { decodeQr, freePort, startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture, showMail } from './lib/pages.mjs';
import { appCode as sharedAppCode, unusedCode } from './lib/users.mjs';

const root = resolve(import.meta.dirname, '..');
const demoBinary = process.env.VERZUIMCOACH_BIN ?? join(root, 'target', 'release', 'verzuimcoach');
const PASSWORD = 'Fiets-Sleutel-2024!';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

let mailbox;
let server;
let browser;
let demo;
let demoUrl;
let key;

const field = (printed, name) => printed.match(new RegExp(`^${name}: (.+)$`, 'm'))[1];

before(async () => {
  mailbox = await startMailbox();
  server = await startServer({ smtpPort: mailbox.port });
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.', '--require-digit');
  await server.cli('org', 'create', '--slug', 'globex', '--name', 'Globex Ltd', '--lang', 'en');
  const port = await freePort();
  const created = await server.cli('client', 'create', '--name', 'Verzuimcoach', '--first-party',
    '--redirect-uri', `http://127.0.0.1:${port}/callback`,
    '--post-logout-redirect-uri', `http://127.0.0.1:${port}/`,
    '--backchannel-logout-uri', `http://127.0.0.1:${port}/backchannel-logout`);
  // The demo runs on the port its registration names.
  const id = field(created, 'client_id');
  const secret = field(created, 'client_secret');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  demo = await startDemoOn(port, id, secret);
});

/** Starts the demo application, registered as `id`, on `port`. */
async function startDemoOn(port, id, secret) {
  demoUrl = `http://127.0.0.1:${port}`;
  const child = spawn(demoBinary, [], {
    env: {
      ...process.env,
      VERZUIMCOACH_ISSUER: server.url,
      VERZUIMCOACH_URL: demoUrl,
      VERZUIMCOACH_BIND: `127.0.0.1:${port}`,
      VERZUIMCOACH_CLIENT_ID: id,
      VERZUIMCOACH_CLIENT_SECRET: secret,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(demoUrl)).ok) return child;
    } catch {
      // not yet
    }
    if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}`);
    if (Date.now() - started > 15000) throw new Error('the demo did not start in 15 s');
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

after(async () => {
  demo?.kill('SIGTERM');
  await browser?.close();
  await server?.stop();
  await mailbox?.close();
});

const about = (address, subject) => (mail) => mail.envelopeTo.includes(address) && subject.test(mail.subject);

async function newPage() {
  const context = await browser.newContext({ locale: 'nl-NL', viewport: DESKTOP });
  return context.newPage();
}

/** The app's code for the demo user: current, or (for a later login) a step not used yet. */
const appCode = () => sharedAppCode(key);
const unusedAppCode = () => unusedCode(key);

/** Password and code at Poortwachter, for a user whose app is set up. */
async function logInAtPoortwachter(page, username) {
  await page.getByLabel('Gebruikersnaam').fill(username);
  await page.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'INLOGGEN' }).click();
  await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
  await page.getByLabel('Verificatiecode (6 cijfers)').fill(await unusedAppCode());
  await page.getByRole('button', { name: 'INLOGGEN' }).click();
}

describe('Poortwachter in front of Verzuimcoach', () => {
  test('the guide from invitation to code, starting and ending at the application', async () => {
    const page = await newPage();
    await server.cli('user', 'invite', '--org', 'acme', '--username', 'jdevries',
      '--email', 'jdevries@example.nl', '--name', 'Jan de Vries');
    const invitation = await mailbox.waitFor(about('jdevries@example.nl', /Activeer/), 'invitation');
    const href = invitation.html.match(/<a href="([^"]+)"[^>]*>HIER<\/a>/)[1];
    await page.goto(href);
    await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
    await page.getByLabel('Herhaal wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.waitForURL('**/login?notice=activated*');

    // At the application: Inloggen sends the browser to Poortwachter.
    await page.goto(demoUrl);
    await capture(page, 'verzuimcoach-welcome');
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(`${server.url}/login`);
    await page.getByLabel('Gebruikersnaam').fill('jdevries');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    const setup = await mailbox.waitFor(about('jdevries@example.nl', /aanvraagcode/), 'set-up e-mail');
    const image = setup.attachments.find((a) => a.contentType === 'image/png' && a.cid);
    key = OTPAuth.URI.parse(decodeQr(image.content)).secret.base32;
    await page.getByLabel('Verificatiecode (6 cijfers)').fill(appCode());
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    // The set-up ends with the herstelcodes; VERDER goes on to the application.
    await page.waitForURL('**/account/recovery-codes');
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();

    // Back at the application, with the name and organization from the ID token.
    await page.waitForURL(`${demoUrl}/`);
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd in Verzuimcoach' }).waitFor();
    assert.equal(await page.locator('#name').textContent(), 'Jan de Vries');
    assert.equal(await page.locator('#organization').textContent(), 'Acme Zorg B.V.');
    await capture(page, 'verzuimcoach-logged-in');

    // Uitloggen there ends Poortwachter's session too (RP-initiated logout).
    await page.getByRole('button', { name: 'Uitloggen' }).click();
    await page.waitForURL(`${demoUrl}/`);
    await page.getByRole('button', { name: 'Inloggen' }).waitFor();
    await page.goto(`${server.url}/`);
    await page.waitForURL(`${server.url}/login`);
  });

  test('OVERAL UITLOGGEN in Poortwachter ends the application session by back-channel', async () => {
    const page = await newPage();
    await page.goto(demoUrl);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await logInAtPoortwachter(page, 'jdevries');
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd in Verzuimcoach' }).waitFor();

    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'OVERAL UITLOGGEN' }).click();
    await page.waitForURL('**/login?notice=logged_out_everywhere');
    // The logout token reaches the application within a second or two.
    for (let tries = 0; ; tries += 1) {
      await page.goto(demoUrl);
      if (await page.getByRole('button', { name: 'Inloggen' }).count()) break;
      assert.ok(tries < 50, 'the application session ended');
      await new Promise((wake) => setTimeout(wake, 100));
    }
  });

  test('consent, connected apps, refused requests and the logout question', async () => {
    const page = await newPage();
    // A second application; its callback stands in at the demo's front page.
    const created = await server.cli('client', 'create', '--name', 'Planner Pro',
      '--redirect-uri', `${demoUrl}/`);
    const planner = field(created, 'client_id');
    const authorize = (client, extra = '') => `${server.url}/authorize?client_id=${client}`
      + `&redirect_uri=${encodeURIComponent(`${demoUrl}/`)}&response_type=code`
      + `&scope=openid%20profile%20email&state=s&code_challenge=${CHALLENGE}&code_challenge_method=S256${extra}`;

    // A request that cannot be sent back: a page.
    await page.goto(authorize('nobody'));
    await page.getByRole('heading', { name: 'Deze inlogaanvraag klopt niet' }).waitFor();
    await capture(page, 'oidc-unknown-application');

    // A third-party application: log in, then the consent page.
    await page.goto(authorize(planner));
    await logInAtPoortwachter(page, 'jdevries');
    await page.getByRole('heading', { name: 'Toegang geven' }).waitFor();
    const listed = await page.locator('ul.scopes li').allTextContents();
    assert.ok(listed.includes('je e-mailadres') && listed.includes('je naam en gebruikersnaam'), listed.join('; '));
    await capture(page, 'oidc-consent');
    // On to the application with a code (a form-action CSP that left the application out
    // would have stopped the browser here).
    await page.getByRole('button', { name: 'TOESTAAN' }).click();
    await page.waitForURL((url) => url.origin === demoUrl && url.searchParams.has('code'));
    assert.equal(new URL(page.url()).searchParams.get('iss'), server.url);

    // Listed under Gekoppelde apps, and withdrawn there.
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Gekoppelde apps' }).waitFor();
    await capture(page, 'home-connected-apps');
    await page.getByRole('button', { name: 'INTREKKEN: Planner Pro' }).click();
    await page.getByText('De toegang is ingetrokken.').waitFor();

    // Logging out from a link without this session's ID token: asked first.
    await page.goto(`${server.url}/logout/end-session`);
    await page.getByRole('heading', { name: 'Uitloggen' }).waitFor();
    await capture(page, 'oidc-logout-question');
    await page.getByRole('button', { name: 'UITLOGGEN' }).click();
    await page.waitForURL('**/login?notice=logged_out');
  });

  test('directions on the way: the username filled in, a used link, the application named, unsaved herstelcodes', async () => {
    const page = await newPage();
    await server.cli('user', 'invite', '--org', 'acme', '--username', 'pbakker',
      '--email', 'pbakker@example.nl', '--name', 'Piet Bakker');
    const invitation = await mailbox.waitFor(about('pbakker@example.nl', /Activeer/), 'invitation');
    const href = invitation.html.match(/<a href="([^"]+)"[^>]*>HIER<\/a>/)[1];
    await page.goto(href);
    await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
    await page.getByLabel('Herhaal wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    // After activation the login page knows who is logging in.
    await page.waitForURL('**/login?notice=activated*');
    assert.equal(await page.getByLabel('Gebruikersnaam').inputValue(), 'pbakker');

    // The invitation link again: it says the account is active and points to Wachtwoord vergeten?.
    await page.goto(href);
    await page.getByRole('link', { name: 'Wachtwoord vergeten?' }).waitFor();
    await capture(page, 'invitation-used');

    // From the application, the login page names it.
    await page.goto(demoUrl);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(`${server.url}/login`);
    await page.getByText('Je logt in bij Verzuimcoach.').waitFor();
    await page.getByLabel('Gebruikersnaam').fill('pbakker');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    const setup = await mailbox.waitFor(about('pbakker@example.nl', /aanvraagcode/), 'set-up e-mail');
    const image = setup.attachments.find((a) => a.contentType === 'image/png' && a.cid);
    const ownKey = OTPAuth.URI.parse(decodeQr(image.content)).secret.base32;
    await page.getByLabel('Verificatiecode (6 cijfers)').fill(sharedAppCode(ownKey));
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.waitForURL('**/account/recovery-codes');

    // The user leaves the herstelcodes without VERDER: Mijn account asks for them, names the
    // organization's own application, and still leads back to it.
    await page.goto(`${server.url}/`);
    await page.getByText('Je hebt je herstelcodes nog niet bewaard.').waitFor();
    await page.getByText('gebruiken je account zonder aparte toestemming: Verzuimcoach.').waitFor();
    await capture(page, 'home-codes-unsaved');
    await page.getByRole('link', { name: 'Verder naar Verzuimcoach' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd in Verzuimcoach' }).waitFor();

    // The next login asks again, and its VERDER goes on to the application.
    const later = await newPage();
    await later.goto(demoUrl);
    await later.getByRole('button', { name: 'Inloggen' }).click();
    await later.getByLabel('Gebruikersnaam').fill('pbakker');
    await later.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
    await later.getByRole('button', { name: 'INLOGGEN' }).click();
    await later.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    await later.getByLabel('Verificatiecode (6 cijfers)').fill(await unusedCode(ownKey));
    await later.getByRole('button', { name: 'INLOGGEN' }).click();
    await later.waitForURL('**/account/recovery-codes');
    assert.equal(await later.locator('#recovery-codes li').count(), 10);
    await later.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await later.getByRole('button', { name: 'VERDER' }).click();
    await later.getByRole('heading', { name: 'Je bent nu succesvol ingelogd in Verzuimcoach' }).waitFor();
  });

  test('an application limited to another organization refuses with a page', async () => {
    const page = await newPage();
    const created = await server.cli('client', 'create', '--name', 'Globex Portal', '--first-party',
      '--org', 'globex', '--redirect-uri', `${demoUrl}/elsewhere`);
    const portal = field(created, 'client_id');
    await page.goto(`${server.url}/authorize?client_id=${portal}&redirect_uri=${encodeURIComponent(`${demoUrl}/elsewhere`)}`
      + `&response_type=code&scope=openid&state=s&code_challenge=${CHALLENGE}&code_challenge_method=S256`);
    await logInAtPoortwachter(page, 'jdevries');
    await page.getByRole('heading', { name: 'Geen toegang' }).waitFor();
    await capture(page, 'oidc-organization-refused');
    const back = await page.getByRole('link', { name: 'Terug naar Globex Portal' }).getAttribute('href');
    assert.match(back, /error=access_denied/);
  });
});
