// The console for HR administrators (issue 14) in a real browser: a beheerder invites one
// employee, uploads a Dutch Excel CSV (preview with each row's problems, then a file that
// is right and its confirmation), follows the onboarding overview, resets a colleague's
// two-step verification with a reason, sees Toegang op orde and resends from it, previews
// and saves the password policy, and reads
// the audit log. axe-core on every page, screenshots into e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startMailbox, startServer } from './lib/harness.mjs';
import { DESKTOP, capture, showMail } from './lib/pages.mjs';
import { logoPng } from './lib/png.mjs';
import { about, readyUser } from './lib/users.mjs';

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
  await server.cli('org', 'create', '--slug', 'globex', '--name', 'Globex B.V.');
  await server.cli('user', 'invite', '--org', 'globex', '--username', 'gina', '--email',
    'gina@example.nl', '--name', 'Gina Globex');
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

async function chooseCsv(page, name, text) {
  await page.getByLabel('CSV-bestand').setInputFiles({
    name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8'),
  });
  await page.getByRole('button', { name: 'CONTROLEREN' }).click();
}

describe('the console for HR in a browser', () => {
  test('invite, CSV preview and confirm, onboarding, reset 2FA with a reason, policy, audit', async () => {
    // A colleague with the app set up, and the beheerder.
    const colleague = await newPage();
    await readyUser({ server, mailbox, page: colleague, username: 'collega' });
    await colleague.context().close();
    const page = await newPage();
    await readyUser({ server, mailbox, page, username: 'hr' });
    await page.getByLabel('Ik heb mijn herstelcodes bewaard.').check();
    await page.getByRole('button', { name: 'VERDER' }).click();
    await page.getByRole('heading', { name: 'Je bent nu succesvol ingelogd.' }).waitFor();
    // Without the role there is no way in.
    await page.goto(`${server.url}/beheer`);
    await page.getByRole('heading', { name: 'Geen toegang' }).waitFor();
    await capture(page, 'forbidden');
    await server.cli('user', 'grant-admin', '--org', 'acme', '--username', 'hr');
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'Beheer van je organisatie' }).click();
    await page.getByRole('heading', { name: 'Medewerkers van Acme Zorg B.V.' }).waitFor();
    assert.equal(await page.getByText('gina').count(), 0, 'nothing of another organization');
    await capture(page, 'users');

    // Invite one: a wrong address first, then right.
    await page.getByRole('link', { name: 'Uitnodigen', exact: true }).click();
    await page.getByLabel('Gebruikersnaam').fill('anna');
    await page.getByLabel('E-mailadres').fill('anna-at-example.nl');
    await page.getByLabel('Naam (voor de aanhef van de e-mail)').fill('Anna de Boer');
    await page.getByRole('button', { name: 'UITNODIGEN' }).click();
    await page.getByText('geen geldig e-mailadres').waitFor();
    await capture(page, 'invite-problem');
    await page.getByLabel('E-mailadres').fill('anna@example.nl');
    await page.getByRole('button', { name: 'UITNODIGEN' }).click();
    await page.getByText('De uitnodiging voor anna is verstuurd.').waitFor();
    await mailbox.waitFor(about('anna@example.nl', /Activeer/), 'invitation for anna');

    // CSV from Dutch Excel (BOM, semicolons): problems shown per row, nothing sent.
    await page.getByRole('link', { name: 'CSV-bestand uploaden' }).click();
    await capture(page, 'upload');
    await chooseCsv(page, 'medewerkers.csv',
      '\uFEFFgebruikersnaam;e-mailadres;naam\r\nbob;bob@example.nl;Bob Bakker\r\ncees;geen-adres;Cees\r\nbob;bob2@example.nl;Bob Twee\r\ngina;g@example.nl;Gina\r\n');
    await page.getByText('3 regels hebben een probleem').waitFor();
    assert.equal(await page.getByRole('button', { name: /UITNODIGINGEN VERSTUREN/ }).count(), 0);
    await capture(page, 'preview-problems');
    await page.getByRole('link', { name: 'Ander bestand uploaden' }).click();
    await chooseCsv(page, 'medewerkers.csv',
      '\uFEFFgebruikersnaam;e-mailadres;naam\r\nbob;bob@example.nl;Bob Bakker\r\ndirk;dirk@example.nl;"Vries, Dirk de"\r\n');
    await page.getByText('Alle regels zijn in orde. Er is nog niets verstuurd.').waitFor();
    await capture(page, 'preview-ok');
    await page.getByRole('button', { name: '2 UITNODIGINGEN VERSTUREN' }).click();
    await page.getByText('2 uitnodigingen zijn verstuurd.').waitFor();
    await mailbox.waitFor(about('bob@example.nl', /Activeer/), 'invitation for bob');
    await mailbox.waitFor(about('dirk@example.nl', /Activeer/), 'invitation for dirk');

    // The onboarding overview: where everyone is.
    await page.getByRole('link', { name: 'Onboarding' }).click();
    await page.getByRole('heading', { name: 'Onboarding' }).waitFor();
    const sent = page.locator('tr', { hasText: 'dirk' });
    await sent.getByText(/uitnodiging (verstuurd|wacht)/).waitFor();
    await page.locator('tr', { hasText: 'collega' }).getByText('klaar: wachtwoord en app ingesteld').waitFor();
    await capture(page, 'onboarding');

    // Reset a colleague's two-step verification: a reason is required.
    await page.getByRole('link', { name: 'Medewerkers', exact: true }).click();
    await page.getByLabel('Zoeken op naam, gebruikersnaam of e-mailadres').fill('collega');
    await page.getByRole('button', { name: 'ZOEKEN' }).click();
    await page.getByRole('link', { name: 'collega', exact: true }).click();
    await capture(page, 'user');
    await page.getByRole('link', { name: 'TWEESTAPSVERIFICATIE RESETTEN' }).click();
    await page.getByRole('button', { name: 'JA, RESETTEN' }).click();
    await page.getByText('Vul een reden in.').waitFor();
    await capture(page, 'reset-2fa');
    await page.getByLabel('Reden').fill('telefoon kwijt, gebeld op maandag');
    await page.getByRole('button', { name: 'JA, RESETTEN' }).click();
    await page.getByText('De tweestapsverificatie is teruggezet.', { exact: false }).waitFor();
    await page.getByText('app nog niet ingesteld').first().waitFor();
    await mailbox.waitFor(about('collega@example.nl', /teruggezet/), 'reset notice');

    // Toegang op orde: the application expects collega and bob soon; both at risk, bob's
    // action is a new invitation, which the overview sends.
    const soon = new Date(Date.now() + 5 * 86400000).toISOString().slice(0, 10);
    for (const username of ['collega', 'bob']) {
      await server.cli('access', 'expect', '--org', 'acme', '--username', username,
        '--key', 'plan_van_aanpak', '--on', soon, '--label', 'plan van aanpak');
    }
    await page.getByRole('link', { name: 'Toegang op orde' }).click();
    await page.getByRole('heading', { name: 'Toegang op orde' }).waitFor();
    await page.locator('tr', { hasText: 'collega' }).getByText('app opnieuw instellen').waitFor();
    await page.locator('tr', { hasText: 'bob' }).getByText('nog niet geactiveerd').waitFor();
    await capture(page, 'access');
    const invitationsForBob = () => mailbox.messages.filter(about('bob@example.nl', /Activeer/)).length;
    const before = invitationsForBob();
    await page.locator('tr', { hasText: 'bob' }).getByRole('button', { name: /Uitnodiging opnieuw sturen/ }).click();
    await page.getByText('Er is een nieuwe uitnodiging verstuurd', { exact: false }).waitFor();
    await page.getByRole('heading', { name: 'Toegang op orde' }).waitFor();
    await mailbox.waitFor(() => invitationsForBob() > before, 'a new invitation for bob');

    // The password policy: a preview as employees read it, then saved.
    await page.getByRole('link', { name: 'Wachtwoordbeleid' }).click();
    await page.getByLabel('Minimale lengte').fill('14');
    await page.getByRole('button', { name: 'VOORBEELD' }).click();
    await page.getByText('minimaal 14 tekens lang zijn').waitFor();
    await capture(page, 'policy-preview');
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.getByText('Het beleid is opgeslagen.').waitFor();
    await page.getByText('minimaal 14 tekens lang zijn').waitFor();

    // The audit log: who did what, and why.
    await page.getByRole('link', { name: 'Auditlog' }).click();
    await page.getByLabel('Gebeurtenis').selectOption('two_step_reset');
    await page.getByRole('button', { name: 'ZOEKEN' }).click();
    await page.getByText('beheerder hr: telefoon kwijt, gebeld op maandag').waitFor();
    await capture(page, 'audit');

    // Webhooks: one added for two events, its secret shown once, then its own page.
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('Er zijn nog geen webhooks.').waitFor();
    await page.getByRole('link', { name: 'Webhook toevoegen' }).click();
    await page.getByLabel('Adres (URL)').fill('https://hr.acme.example/poortwachter');
    await page.getByLabel('Omschrijving').fill('HR-systeem');
    await page.getByLabel('Alleen de gebeurtenissen die ik hieronder aanvink').check();
    await page.getByLabel(/account geactiveerd/).check();
    await page.getByLabel(/geblokkeerd na pogingen/).check();
    await capture(page, 'webhook-new');
    await page.getByRole('button', { name: 'TOEVOEGEN' }).click();
    await page.getByRole('heading', { name: 'Bewaar het geheim' }).waitFor();
    assert.match(await page.locator('.secret code').innerText(), /^whsec_[A-Za-z0-9+/=]{40,}$/);
    await capture(page, 'webhook-secret');
    await page.getByRole('link', { name: 'Naar de webhook' }).click();
    await page.getByText('account geactiveerd, geblokkeerd na pogingen').waitFor();
    assert.equal(await page.locator('.secret').count(), 0, 'the secret is shown only once');
    await capture(page, 'webhook');
    await page.getByRole('link', { name: 'Terug naar de webhooks' }).click();
    await page.getByRole('link', { name: 'https://hr.acme.example/poortwachter' }).waitFor();
    await capture(page, 'webhooks');

    // Huisstijl: a colour too light for white text is refused in words; a dark one, the
    // sender name and a logo are saved, and the console and Mijn account wear them.
    await page.getByRole('link', { name: 'Huisstijl' }).click();
    await page.getByLabel('Kleur (knoppen en links)').fill('#ffcc00');
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.getByText('Witte tekst op #ffcc00 is slecht te lezen', { exact: false }).waitFor();
    await capture(page, 'look-refused');
    await page.getByLabel('Kleur (knoppen en links)').fill('#7a1f5c');
    await page.getByLabel('Afzender van de e-mails').fill('Acme Zorg');
    await page.getByLabel('Logo', { exact: true }).setInputFiles({
      name: 'acme.png', mimeType: 'image/png', buffer: logoPng(240, 64, [122, 31, 92]),
    });
    await page.getByRole('button', { name: 'OPSLAAN' }).click();
    await page.getByText('De huisstijl is opgeslagen.').waitFor();
    await page.getByText('De e-mails komen van: Acme Zorg via Poortwachter', { exact: false }).waitFor();
    const button = await page.getByRole('button', { name: 'OPSLAAN' })
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(button, 'rgb(122, 31, 92)', 'the accent colours the buttons');
    const logo = page.locator('header.site img.logo');
    assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth === 240), 'the logo shows');
    await capture(page, 'look');
    await page.getByRole('link', { name: 'Mijn account' }).click();
    await page.locator('header.site img.logo').waitFor();
    await page.locator('header.site .brand', { hasText: 'Poortwachter' }).waitFor();
    await capture(page, 'account-look');
    await page.context().close();

    // A mail of the organization now: its sender name, its logo and its colour.
    await server.cli('user', 'invite', '--org', 'acme', '--username', 'nieuw', '--email',
      'nieuw@example.nl', '--name', 'Nieuwe Collega');
    const invitation = await mailbox.waitFor(about('nieuw@example.nl', /Activeer/), 'a branded invitation');
    assert.match(invitation.from.text, /Acme Zorg via Poortwachter/);
    const mailPage = await newPage();
    await showMail(mailPage, invitation);
    const mailLogo = mailPage.locator('img[alt="Acme Zorg B.V."]');
    await mailLogo.waitFor();
    assert.ok(await mailLogo.evaluate((img) => img.complete && img.naturalWidth === 240), 'the linked logo loads');
    await capture(mailPage, 'mail-look');
    await mailPage.context().close();
  });
});
