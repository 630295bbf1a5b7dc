// Self-service recovery in a real browser (issue 13): "Wachtwoord vergeten?" with the second
// step first, and herstelcodes (saved at the set-up, one used at login, the count shown).
// The same independent parts as the journey: real SMTP, zbarimg for the QR code, otpauth for
// the codes, axe-core on every page, screenshots into e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { chromium } from 'playwright-core';
import { decodeQr, startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture, showMail } from './lib/pages.mjs';
import { PASSWORD, about, appCode, logIn, readyUser as makeReady, unusedCode } from './lib/users.mjs';

const readyUser = (page, username) => makeReady({ server, mailbox, page, username });

const NEW_PASSWORD = 'Nieuw-Fietspad-2026?';

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
  await server.cli('org', 'create', '--slug', 'acme', '--name', 'Acme Zorg B.V.');
  await server.cli('org', 'policy', 'set', '--org', 'acme', '--remember-device-days', '7');
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

describe('self-service recovery in a browser', () => {
  test('herstelcodes: saved at the set-up, downloaded, one used at login, the count shown', async () => {
    const page = await newPage();
    const { codes, setup } = await readyUser(page, 'herstel');
    const mailPage = await newPage();
    await showMail(mailPage, setup);
    const link = mailPage.getByRole('link', { name: 'Openen in authenticator app' });
    assert.equal(await link.getAttribute('href'), decodeQr(
      setup.attachments.find((a) => a.contentType === 'image/png' && a.cid).content));
    await mailPage.context().close();
    await capture(page, 'recovery-codes');

    // Downloaden (.txt): the same ten codes in a file.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Downloaden (.txt)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'herstelcodes.txt');
    const file = await (await download.createReadStream()).toArray();
    const text = Buffer.concat(file).toString('utf8');
    codes.forEach((code) => assert.ok(text.includes(code), code));

    // Afdrukken: the codes alone on a page that prints without the site's frame.
    await page.getByRole('link', { name: 'Afdrukken' }).click();
    await page.waitForURL('**/account/recovery-codes/print');
    await capture(page, 'recovery-codes-print');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('footer.site').isVisible(), false, 'no footer on paper');
    await page.emulateMedia({ media: 'screen' });
    await page.goBack();

    // VERDER without the tick: refused, the codes stay on the page.
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByText('Vink eerst aan dat je je herstelcodes hebt bewaard.').waitFor();
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();

    // A later login without the phone: "Geen toegang tot je app?", a herstelcode.
    await page.getByRole('button', { name: 'UITLOGGEN', exact: true }).click();
    await logIn(page, 'herstel');
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    await page.getByRole('link', { name: 'Geen toegang tot je app? Gebruik een herstelcode' }).click();
    await page.waitForURL('**/2fa/recovery');
    await capture(page, 'recovery-code-login');
    await page.getByLabel('Herstelcode').fill('1234-5678-9012-3456-7890');
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByText('Deze herstelcode klopt niet of is al gebruikt.', { exact: false }).waitFor();
    await page.getByLabel('Herstelcode').fill(codes[0].replaceAll('-', ' '));
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByText('Je bent ingelogd met een herstelcode. Je hebt nog 9 ongebruikte herstelcodes.').waitFor();
    await capture(page, 'recovery-code-used');
    await page.context().close();
  });

  test('Wachtwoord vergeten? with the app\'s code first, then a new password', async () => {
    const setupPage = await newPage();
    const { key, email } = await readyUser(setupPage, 'vergeten');
    await setupPage.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await setupPage.getByRole('button', { name: 'VERDER' }).click();
    await setupPage.context().close();

    const page = await newPage();
    await page.goto(`${server.url}/login`);
    await page.getByRole('link', { name: 'Wachtwoord vergeten?' }).click();
    await page.waitForURL('**/password/forgot');
    await capture(page, 'forgot');
    await page.getByLabel('Gebruikersnaam of e-mailadres').fill(email);
    await page.getByRole('button', { name: 'VERSTUREN' }).click();
    await page.getByText('Als we een account vinden, sturen we een e-mail', { exact: false }).waitFor();
    await capture(page, 'forgot-sent');

    const mail = await mailbox.waitFor(about(email, /nieuw wachtwoord/), 'reset e-mail');
    const mailPage = await newPage();
    await showMail(mailPage, mail);
    await capture(mailPage, 'mail-reset');
    await mailPage.context().close();
    const href = mail.html.match(/<a href="([^"]+)"[^>]*>HIER<\/a>/)[1];

    // The second step first: a wrong code, then the app's code.
    await page.goto(href);
    await page.getByText('Bevestig eerst dat jij het bent', { exact: false }).waitFor();
    await capture(page, 'reset-second-step');
    await page.getByLabel('Verificatiecode (6 cijfers)').fill('000000');
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByText('Deze code klopt niet.', { exact: false }).waitFor();
    await page.getByLabel('Verificatiecode (6 cijfers)').fill(await unusedCode(key));
    await page.getByRole('button', { name: 'VERDER' }).click();

    // The new password under the policy.
    await page.getByLabel('Nieuw wachtwoord').waitFor();
    await capture(page, 'reset-password');
    await page.getByLabel('Nieuw wachtwoord').fill('kort');
    await page.getByLabel('Herhaal wachtwoord').fill('kort');
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.locator('#password-errors').waitFor();
    await page.getByLabel('Nieuw wachtwoord').fill(NEW_PASSWORD);
    await page.getByLabel('Herhaal wachtwoord').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.waitForURL('**/login?notice=password_reset');
    await page.getByText('Je nieuwe wachtwoord is opgeslagen en je bent overal uitgelogd.').waitFor();
    await capture(page, 'reset-done');
    await mailbox.waitFor(about(email, /opnieuw ingesteld/), 'reset notice');

    // The link works once; the new password logs in.
    await page.goto(href);
    await page.getByRole('heading', { name: 'Deze link is al gebruikt' }).waitFor();
    await capture(page, 'reset-link-used');
    await page.goto(`${server.url}/login`);
    await logIn(page, 'vergeten', NEW_PASSWORD);
    await page.waitForURL('**/2fa');
    await page.context().close();
  });

  test('Mijn account, Dit apparaat onthouden, and a new phone after a herstelcode', async () => {
    const page = await newPage();
    const { key, codes, email, setup } = await readyUser(page, 'telefoon');
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByRole('heading', { name: 'Mijn account' }).waitFor();
    await page.getByText('Tweestapsverificatie ingeschakeld').waitFor();
    await capture(page, 'account');

    // Dit apparaat onthouden: the next login on this browser asks only the password.
    await page.getByRole('button', { name: 'UITLOGGEN', exact: true }).click();
    await logIn(page, 'telefoon');
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    await page.getByLabel('Verificatiecode (6 cijfers)').fill(await unusedCode(key));
    await page.getByLabel(/Dit apparaat 7 dagen onthouden/).check();
    await capture(page, 'code-remember-device');
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.getByRole('button', { name: 'UITLOGGEN', exact: true }).click();
    await logIn(page, 'telefoon');
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    await page.getByText('Ingelogd op een onthouden apparaat').waitFor();

    // Listed on Mijn account, and forgotten there: the code is asked again.
    await page.getByRole('button', { name: /^VERGETEN: / }).click();
    await page.getByText('Het apparaat is vergeten', { exact: false }).waitFor();
    await capture(page, 'device-forgotten');
    await page.getByRole('button', { name: 'UITLOGGEN', exact: true }).click();
    await logIn(page, 'telefoon');
    await page.waitForURL('**/2fa');

    // The phone is lost: a herstelcode, then Nieuwe telefoon instellen.
    await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
    await page.getByRole('link', { name: 'Geen toegang tot je app? Gebruik een herstelcode' }).click();
    await page.getByLabel('Herstelcode').fill(codes[3]);
    await page.getByRole('button', { name: 'INLOGGEN' }).click();
    await page.getByText('Je bent ingelogd met een herstelcode. Je hebt nog 9 ongebruikte herstelcodes.').waitFor();
    await page.getByRole('link', { name: 'Nieuwe telefoon instellen' }).click();
    await page.waitForURL('**/account/new-phone');
    await capture(page, 'new-phone');
    await page.getByRole('button', { name: 'NIEUWE TELEFOON INSTELLEN' }).click();
    await page.getByText('We hebben een nieuwe e-mail gestuurd.', { exact: false }).waitFor();
    const second = await mailbox.waitFor(
      (m) => about(email, /aanvraagcode/)(m) && m !== setup, 'the new phone\'s set-up e-mail');
    const image = second.attachments.find((a) => a.contentType === 'image/png' && a.cid);
    const newKey = OTPAuth.URI.parse(decodeQr(image.content)).secret.base32;
    assert.notEqual(newKey, key);
    await capture(page, 'new-phone-code');
    await page.getByLabel('Verificatiecode (6 cijfers)').fill(appCode(newKey));
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.getByText('Je nieuwe telefoon is ingesteld.', { exact: false }).waitFor();
    await capture(page, 'new-phone-done');
    await mailbox.waitFor(about(email, /vervangen/), 'the new phone notice');
    await page.context().close();
  });
});
