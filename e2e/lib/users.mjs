// A user made ready the way the guide describes it (invitation, password, first login with
// the app set up from the e-mail), shared by the suites that need a logged-in user.

import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { decodeQr } from './harness.mjs';

export const PASSWORD = 'Fiets-Sleutel-2024!';

/** A mail filter: to `address`, with a subject matching `subject`. */
export const about = (address, subject) => (mail) => mail.envelopeTo.includes(address) && subject.test(mail.subject);

const PERIOD_MS = 30000;
/** The newest time step each key's code was typed for, so that no step is typed twice. */
const usedSteps = new Map();

function codeAt(key, step) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp: step * PERIOD_MS });
}

/** The authenticator app's current code for `key` (base32). */
export function appCode(key) {
  const step = Math.floor(Date.now() / PERIOD_MS);
  usedSteps.set(key, Math.max(step, usedSteps.get(key) ?? step));
  return codeAt(key, step);
}

/**
 * A code for `key` of a time step not typed before: the current period's, or else the next
 * period's, which the server accepts too (one period of clock drift, RFC 6238 §5.2) — so a
 * later login types at once instead of waiting half a minute for the app's next code. Waits
 * only when both steps were used already.
 */
export async function unusedCode(key) {
  for (;;) {
    const now = Math.floor(Date.now() / PERIOD_MS);
    const step = Math.max(now, (usedSteps.get(key) ?? now - 1) + 1);
    if (step <= now + 1) {
      usedSteps.set(key, step);
      return codeAt(key, step);
    }
    await new Promise((wake) => setTimeout(wake, PERIOD_MS - (Date.now() % PERIOD_MS) + 200));
  }
}

export async function logIn(page, username, password = PASSWORD) {
  await page.getByLabel('Gebruikersnaam').fill(username);
  await page.getByLabel('Wachtwoord', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'INLOGGEN' }).click();
}

/** Invitation, password, first login with the app set up from the e-mail; the page stops at
 * the herstelcodes. Returns the app's key, the ten codes, the address and the set-up mail. */
export async function readyUser({ server, mailbox, page, org = 'acme', username }) {
  const email = `${username}@example.nl`;
  await server.cli('user', 'invite', '--org', org, '--username', username, '--email', email,
    '--name', `Jan ${username}`);
  const invitation = await mailbox.waitFor(about(email, /Activeer/), 'invitation');
  await page.goto(invitation.html.match(/<a href="([^"]+)"[^>]*>HIER<\/a>/)[1]);
  await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
  await page.getByLabel('Herhaal wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'OPSLAAN' }).click();
  await page.waitForURL('**/login?notice=activated*');
  await logIn(page, username);
  await page.getByRole('button', { name: 'AUTHENTICATOR APP' }).click();
  const setup = await mailbox.waitFor(about(email, /aanvraagcode/), 'set-up e-mail');
  const image = setup.attachments.find((a) => a.contentType === 'image/png' && a.cid);
  const uri = decodeQr(image.content);
  // The phone that reads the mail itself can tap the same URI.
  assert.ok(setup.html.includes(`href="${uri.replaceAll('&', '&#38;')}"`), 'Openen in authenticator app');
  const key = OTPAuth.URI.parse(uri).secret.base32;
  await page.getByLabel('Verificatiecode (6 cijfers)').fill(appCode(key));
  await page.getByRole('button', { name: 'INLOGGEN' }).click();
  await page.waitForURL('**/account/recovery-codes');
  const codes = await page.locator('#recovery-codes li').allTextContents();
  assert.equal(codes.length, 10);
  return { key, codes, email, setup };
}
