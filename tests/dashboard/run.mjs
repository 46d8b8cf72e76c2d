// The dashboard in headless Chromium, as a person sees it:
//   node run.mjs BASE_URL LOGIN_URL KEY SCREENSHOT
// Looks at the page without a session, signs in through the single-use
// link, reads every account, watches a usage limit arrive (it sends the
// requests that meet it), checks a narrow window and dark mode, and saves a
// screenshot. Prints what it saw as JSON.
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.NODE_PATH}/`);
const { chromium } = require('playwright-core');
const [base, login, key, screenshot] = process.argv.slice(2);
const out = {};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme: 'light' });
  const page = await context.newPage();

  // Without a session: the page says how to get one, and shows no account.
  await page.goto(`${base}/`);
  await page.waitForSelector('#locked:not([hidden])');
  out.locked = { text: await page.textContent('#locked'), cards: await page.locator('.account').count() };

  // The single-use link: a cookie, and the accounts.
  await page.goto(login);
  out.landed = new URL(page.url()).pathname;
  await page.waitForSelector('.account');
  const cookies = await context.cookies();
  out.cookie = cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
  const accounts = async () => page.$$eval('.account', (cards) => cards.map((card) => ({
    name: card.dataset.account,
    state: card.querySelector('.state').textContent,
    windows: [...card.querySelectorAll('.window')].map((w) => ({
      name: w.querySelector('.name').textContent,
      percent: w.querySelector('.pct').textContent,
      reset: w.querySelector('.reset')?.textContent ?? null,
    })),
    problems: [...card.querySelectorAll('.problem')].map((p) => p.textContent),
    served: card.querySelector('.served').textContent,
  })));
  out.before = await accounts();

  // The countdown goes on by itself.
  const first = await page.textContent('.reset');
  await page.waitForFunction((was) => document.querySelector('.reset').textContent !== was, first, { timeout: 10000 });
  out.countdown = { first, then: await page.textContent('.reset') };

  // A usage limit arrives (round-robin sends one of these to the limited
  // account): the page shows it without a reload.
  for (let i = 0; i < 2; i++) {
    const answer = await fetch(`${base}/backend-api/codex/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.1-codex', input: 'hi', store: false, stream: true }),
    });
    await answer.text();
  }
  await page.waitForFunction(() => [...document.querySelectorAll('.account .state')].some((s) => s.textContent === 'blocked'),
    null, { timeout: 15000 });
  out.after = await accounts();
  out.errors = await page.$$eval('#errors li', (items) => items.map((i) => i.textContent));
  await page.screenshot({ path: screenshot, fullPage: true });

  // A narrow window: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 740 });
  out.narrow = await page.evaluate(() => ({ width: document.documentElement.scrollWidth, viewport: window.innerWidth }));
  // Dark mode follows the system's.
  await page.emulateMedia({ colorScheme: 'dark' });
  out.dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  out.light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
