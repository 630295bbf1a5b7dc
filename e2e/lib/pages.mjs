// Every page of the journey is looked at twice: an accessibility check with axe-core
// (WCAG 2.1 A and AA rules; no "serious" or "critical" violation may remain), and screenshots
// at a desktop and a phone width into e2e/screenshots/ for a reviewer.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const screenshots = resolve(import.meta.dirname, '..', 'screenshots');
// Each test file (node --test runs each in its own process) names its screenshots after
// itself and removes its own earlier ones, so every file there is from the latest run.
const prefix = basename(process.argv[1] ?? 'suite').replace(/\.test\.mjs$/, '');
mkdirSync(screenshots, { recursive: true });
for (const file of readdirSync(screenshots)) {
  if (file.startsWith(`${prefix}-`)) rmSync(join(screenshots, file));
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };

/** Runs axe-core in the page. Injected through the DevTools protocol, which the page's
 * Content-Security-Policy (no inline script) does not govern, so the policy stays on. */
export async function assertAccessible(page, name) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const serious = results.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  const report = serious
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`)
    .join('\n');
  assert.equal(serious.length, 0, `accessibility violations on ${name}:\n${report}`);
  return results;
}

let counter = 0;

/** Accessibility check, then a full-page screenshot at desktop and at phone width. */
export async function capture(page, name) {
  await assertAccessible(page, name);
  counter += 1;
  const base = `${prefix}-${String(counter).padStart(2, '0')}-${name}`;
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(screenshots, `${base}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
  // The phone width must not need sideways scrolling.
  await page.setViewportSize(PHONE);
  const { overflow, culprits } = await page.evaluate(() => {
    const width = window.innerWidth;
    // Name the outermost elements that stick out, so a failure says where to look.
    const wide = [...document.body.querySelectorAll('*')].filter(
      (el) => el.getBoundingClientRect().right > width + 0.5 && !el.closest('.table-scroll > *'),
    );
    const outermost = wide.filter((el) => !wide.includes(el.parentElement)).slice(0, 3);
    return {
      overflow: document.documentElement.scrollWidth - width,
      culprits: outermost.map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + el.className : ''}`),
    };
  });
  await page.setViewportSize(DESKTOP);
  assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px at 375px (${culprits.join(', ')})`);
}

/** Shows an e-mail's HTML part as a mail program would, inline images included. */
export async function showMail(page, mail) {
  let html = mail.html;
  for (const attachment of mail.attachments) {
    if (attachment.cid) {
      const data = `data:${attachment.contentType};base64,${attachment.content.toString('base64')}`;
      html = html.replaceAll(`cid:${attachment.cid}`, data);
    }
  }
  await page.setContent(html);
}
