// The journey of ../shared/seed/JOURNEY.md in a real browser (Debian's chromium, driven by
// playwright-core), against the release binary, with mail over real SMTP, the QR code read by
// zbarimg and the codes made by the otpauth package: nothing of the service's own code is
// used to pass its own test.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { chromium } from 'playwright-core';
import { decodeQr, startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture, showMail } from './lib/pages.mjs';
import { appCode, unusedCode } from './lib/users.mjs';

const STRICT = ['--min-length', '14', '--require-lowercase', '--require-uppercase', '--require-digit', '--require-symbol'];
const PASSWORD = 'Fiets-Sleutel-2024!';

let mailbox;
let server;
let browser;

before(async () => {
  mailbox = await startMailbox();
  // A short "Nieuwe code" interval keeps the suite quick; the rule itself is the same.
  server = await startServer({
    smtpPort: mailbox.port,
    extraEnv: { POORTWACHTER_SETUP_MAIL_INTERVAL_SECONDS: '3' },
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.', ...STRICT);
  await server.cli('org', 'create', '--slug', 'globex', '--name', 'Globex Ltd', '--lang', 'en', ...STRICT);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await mailbox?.close();
});

const to = (address) => (mail) => mail.envelopeTo.includes(address);
const about = (address, subject) => (mail) => to(address)(mail) && subject.test(mail.subject);

async function newPage(locale) {
  const context = await browser.newContext({ locale, viewport: DESKTOP });
  return context.newPage();
}

/** The set-up e-mail's key, read the way a phone reads it: the QR image through zbarimg. */
function keyFromSetupMail(mail, account) {
  const images = mail.attachments.filter((a) => a.contentType === 'image/png' && a.cid);
  assert.equal(images.length, 1, 'one inline QR image');
  assert.match(mail.html, new RegExp(`src="cid:${images[0].cid}"`));
  const uri = decodeQr(images[0].content);
  const parsed = OTPAuth.URI.parse(uri);
  assert.equal(parsed.label, account);
  assert.equal(parsed.issuer, 'Poortwachter');
  const key = parsed.secret.base32;
  const typed = mail.text.match(/(?:Aanvraagcode|Setup code): ([A-Z2-7 ]+)/)[1].replaceAll(' ', '');
  assert.equal(typed, key, 'the text key equals the QR key');
  return key;
}

async function invite(username, org, lang) {
  const email = `${username}@example.nl`;
  const printed = await server.cli('user', 'invite', '--org', org, '--username', username,
    '--email', email, '--name', `Jan ${username}`);
  const mail = await mailbox.waitFor(about(email, lang === 'en' ? /Activate/ : /Activeer/), 'invitation');
  const href = mail.html.match(/<a href="([^"]+)"[^>]*>(HIER|HERE)<\/a>/)[1];
  assert.ok(printed.includes(href), 'the CLI prints the same link');
  return { email, href, mail };
}

async function logIn(page, username, words) {
  await page.getByLabel(words.username).fill(username);
  await page.getByLabel(words.password, { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: words.login }).click();
}

const NL = { username: 'Gebruikersnaam', password: 'Wachtwoord', login: 'INLOGGEN', save: 'OPSLAAN',
  newPassword: 'Nieuw wachtwoord', repeat: 'Herhaal wachtwoord', app: 'AUTHENTICATOR APP',
  code: 'Verificatiecode (6 cijfers)', done: 'Je bent nu succesvol ingelogd.', logout: 'UITLOGGEN',
  saved: 'Ik heb mijn herstelcodes bewaard.', next: 'VERDER' };
const EN = { username: 'Username', password: 'Password', login: 'LOG IN', save: 'SAVE',
  newPassword: 'New password', repeat: 'Repeat password', app: 'AUTHENTICATOR APP',
  code: 'Verification code (6 digits)', done: 'You are now logged in.', logout: 'LOG OUT',
  saved: 'I have saved my recovery codes.', next: 'CONTINUE' };

/** The herstelcodes page at the end of the set-up: ten codes; confirmed saved, VERDER. */
async function saveRecoveryCodes(page, words, shot) {
  await page.waitForURL('**/account/recovery-codes');
  const codes = await page.locator('#recovery-codes li').allTextContents();
  assert.equal(codes.length, 10);
  codes.forEach((code) => assert.match(code, /^\d{4}(-\d{4}){4}$/));
  if (shot) await capture(page, shot);
  await page.getByLabel(words.saved).check();
  await page.getByRole('button', { name: words.next }).click();
  return codes;
}

async function activate(page, href, words) {
  await page.goto(href);
  await page.getByLabel(words.newPassword).fill(PASSWORD);
  await page.getByLabel(words.repeat).fill(PASSWORD);
  await page.getByRole('button', { name: words.save }).click();
  await page.waitForURL('**/login?notice=activated*');
}

describe('the journey in a browser', () => {
  test('Dutch: invitation, password under a strict policy, authenticator app, logged in', async () => {
    const page = await newPage('nl-NL');
    const { href, mail } = await invite('jdevries', 'acme', 'nl');
    await showMail(page, mail);
    await capture(page, 'mail-invitation');

    // A: HIER opens the activation page; B: the policy is listed before typing.
    await page.goto(href);
    await page.getByRole('heading', { name: 'Welkom, Jan jdevries' }).waitFor();
    const requirements = await page.locator('#requirements li').allTextContents();
    assert.ok(requirements.includes('minimaal 14 tekens lang zijn'), requirements.join('; '));
    assert.ok(requirements.includes('een leesteken of symbool bevatten (zoals ! ? - #)'));
    await capture(page, 'activate');

    // A password that breaks the policy: one message per broken rule, tied to the field.
    await page.getByLabel(NL.newPassword).fill('kortwachtwoord');
    await page.getByLabel(NL.repeat).fill('kortwachtwoord');
    await page.getByRole('button', { name: NL.save }).click();
    const errors = await page.locator('#password-errors li').allTextContents();
    assert.deepEqual(errors, ['Voeg een hoofdletter toe.', 'Voeg een cijfer toe.', 'Voeg een leesteken of symbool toe.']);
    assert.equal(await page.getByLabel(NL.newPassword).getAttribute('aria-invalid'), 'true');
    await capture(page, 'activate-refused');

    await page.getByLabel(NL.newPassword).fill(PASSWORD);
    await page.getByLabel(NL.repeat).fill(PASSWORD);
    await page.getByRole('button', { name: NL.save }).click();
    await page.waitForURL('**/login?notice=activated*');
    await page.getByText('Je wachtwoord is opgeslagen.').waitFor();
    await capture(page, 'login-after-activation');

    // A wrong password first, then the right one.
    await page.getByLabel(NL.username).fill('jdevries');
    await page.getByLabel(NL.password, { exact: true }).fill('Verkeerd-Wachtwoord-1');
    await page.getByRole('button', { name: NL.login }).click();
    await page.getByText('Gebruikersnaam of wachtwoord is onjuist.').waitFor();
    assert.equal(await page.getByLabel(NL.username).inputValue(), 'jdevries', 'the username is kept');
    await capture(page, 'login-refused');
    await logIn(page, 'jdevries', NL);

    // C: the method choice; AUTHENTICATOR APP sends the set-up e-mail.
    await page.waitForURL('**/2fa');
    await capture(page, 'second-step-choice');
    await page.getByRole('button', { name: NL.app }).click();
    await page.waitForURL('**/2fa/app');
    await page.getByText('j***@example.nl').waitFor();
    await capture(page, 'authenticator-setup');
    const setup = await mailbox.waitFor(about('jdevries@example.nl', /aanvraagcode/), 'set-up e-mail');
    const key = keyFromSetupMail(setup, 'jdevries');
    const mailPage = await newPage('nl-NL');
    await showMail(mailPage, setup);
    await capture(mailPage, 'mail-authenticator-setup');
    await mailPage.context().close();

    await page.getByLabel(NL.code).fill(appCode(key));
    await page.getByRole('button', { name: NL.login }).click();
    await saveRecoveryCodes(page, NL, 'recovery-codes');
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('heading', { name: NL.done }).waitFor();
    await capture(page, 'logged-in');
    const notice = await mailbox.waitFor(about('jdevries@example.nl', /ingeschakeld/), 'notice');
    assert.ok(!notice.text.includes(key.slice(0, 8)), 'no secret in the notice');
    await page.context().close();
  });

  test('Nieuwe code during set-up: the old key stops working, the new one logs in', async () => {
    const page = await newPage('nl-NL');
    const { href } = await invite('pietjansen', 'acme', 'nl');
    await activate(page, href, NL);
    await logIn(page, 'pietjansen', NL);
    await page.getByRole('button', { name: NL.app }).click();
    const first = await mailbox.waitFor(about('pietjansen@example.nl', /aanvraagcode/), 'first set-up e-mail');
    const oldKey = keyFromSetupMail(first, 'pietjansen');

    // Too soon: the page says when it can be used again.
    await page.getByRole('button', { name: 'Nieuwe code' }).click();
    await page.getByText(/Je kunt over \d+ seconden? weer een nieuwe code aanvragen\./).waitFor();
    await capture(page, 'new-code-too-soon');
    await new Promise((wake) => setTimeout(wake, 3200));
    await page.getByRole('button', { name: 'Nieuwe code' }).click();
    await page.getByText('We hebben een nieuwe e-mail gestuurd.', { exact: false }).waitFor();
    const second = await mailbox.waitFor(
      (m) => about('pietjansen@example.nl', /aanvraagcode/)(m) && m !== first, 'second set-up e-mail');
    const newKey = keyFromSetupMail(second, 'pietjansen');
    assert.notEqual(newKey, oldKey);

    await page.getByLabel(NL.code).fill(appCode(oldKey));
    await page.getByRole('button', { name: NL.login }).click();
    await page.getByText('Deze code klopt niet.', { exact: false }).waitFor();
    await capture(page, 'code-refused');
    await page.getByLabel(NL.code).fill(appCode(newKey));
    await page.getByRole('button', { name: NL.login }).click();
    await saveRecoveryCodes(page, NL);
    await page.getByRole('heading', { name: NL.done }).waitFor();

    // Wachtwoord wijzigen: a wrong current password is refused, then the change goes through.
    await page.getByRole('link', { name: 'Wachtwoord wijzigen' }).click();
    await page.getByRole('heading', { name: 'Wachtwoord wijzigen' }).waitFor();
    await capture(page, 'password-change');
    const changed = 'Andere-Fiets-2025?';
    await page.getByLabel('Huidig wachtwoord').fill('Verkeerd-Wachtwoord-1');
    await page.getByLabel(NL.newPassword).fill(changed);
    await page.getByLabel(NL.repeat).fill(changed);
    await page.getByRole('button', { name: NL.save }).click();
    await page.getByText('Je huidige wachtwoord klopt niet.').waitFor();
    await capture(page, 'password-change-refused');
    await page.getByLabel('Huidig wachtwoord').fill(PASSWORD);
    await page.getByLabel(NL.newPassword).fill(changed);
    await page.getByLabel(NL.repeat).fill(changed);
    await page.getByRole('button', { name: NL.save }).click();
    await page.getByText('Je wachtwoord is gewijzigd.', { exact: false }).waitFor();
    await capture(page, 'password-changed');
    await mailbox.waitFor(about('pietjansen@example.nl', /wachtwoord is gewijzigd/i), 'change notice');
    await page.context().close();
  });

  test('later logins: log out, log in with a fresh code; the same code again is refused', async () => {
    const page = await newPage('nl-NL');
    const { href } = await invite('klaas', 'acme', 'nl');
    await activate(page, href, NL);
    await logIn(page, 'klaas', NL);
    await page.getByRole('button', { name: NL.app }).click();
    const key = keyFromSetupMail(
      await mailbox.waitFor(about('klaas@example.nl', /aanvraagcode/), 'set-up e-mail'), 'klaas');
    await page.getByLabel(NL.code).fill(appCode(key));
    await page.getByRole('button', { name: NL.login }).click();
    await saveRecoveryCodes(page, NL);
    await page.getByRole('heading', { name: NL.done }).waitFor();

    // D: the code of the first login is spent; the next period's code is typed.
    await page.getByRole('button', { name: NL.logout, exact: true }).click();
    await page.getByText('Je bent uitgelogd.').waitFor();
    await logIn(page, 'klaas', NL);
    await page.getByRole('button', { name: NL.app }).click();
    await page.waitForURL('**/2fa/app');
    assert.equal(await page.getByRole('button', { name: 'Nieuwe code' }).count(), 0, 'no set-up once active');
    await capture(page, 'code-later-login');
    const fresh = await unusedCode(key);
    await page.getByLabel(NL.code).fill(fresh);
    await page.getByRole('button', { name: NL.login }).click();
    await page.getByRole('heading', { name: NL.done }).waitFor();

    await page.getByRole('button', { name: NL.logout, exact: true }).click();
    await logIn(page, 'klaas', NL);
    await page.getByRole('button', { name: NL.app }).click();
    await page.getByLabel(NL.code).fill(fresh);
    await page.getByRole('button', { name: NL.login }).click();
    await page.getByText('Deze code is al gebruikt.', { exact: false }).waitFor();
    await capture(page, 'code-replayed');
    await page.context().close();
  });

  test('English: the same happy path', async () => {
    const page = await newPage('en-GB');
    const { href, mail } = await invite('alice', 'globex', 'en');
    await showMail(page, mail);
    await capture(page, 'en-mail-invitation');
    await page.goto(href);
    await page.getByRole('heading', { name: 'Welcome, Jan alice' }).waitFor();
    await capture(page, 'en-activate');
    await page.getByLabel(EN.newPassword).fill(PASSWORD);
    await page.getByLabel(EN.repeat).fill(PASSWORD);
    await page.getByRole('button', { name: EN.save }).click();
    await page.waitForURL('**/login?notice=activated*');
    await capture(page, 'en-login');
    await logIn(page, 'alice', EN);
    await capture(page, 'en-second-step-choice');
    await page.getByRole('button', { name: EN.app }).click();
    await capture(page, 'en-authenticator-setup');
    const setup = await mailbox.waitFor(about('alice@example.nl', /setup code/), 'set-up e-mail');
    const key = keyFromSetupMail(setup, 'alice');
    await page.getByLabel(EN.code).fill(appCode(key));
    await page.getByRole('button', { name: EN.login }).click();
    await saveRecoveryCodes(page, EN, 'en-recovery-codes');
    await page.getByRole('heading', { name: EN.done }).waitFor();
    await capture(page, 'en-logged-in');
    await page.context().close();
  });
});
