// Drives Debian's Chromium through the portals, one step per run (browser.rs runs the steps in
// order and prepares what each needs between them). Each step signs in through the pages,
// acts as a person would (links, forms, buttons, the camera), checks what the page says, keeps
// a screenshot of every page it shows, and on pages it tours checks that every link resolves,
// that no script is inline and that a phone-sized screen needs no sideways scrolling.
// The last line it prints is a JSON object of what it learned (voucher codes, ids).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) { throw new Error(`${name} is not set`); }
  return value;
};
const BASE = env('PASAR_URL');
const PASSWORD = env('PASSWORD');
const ARTIFACTS = env('ARTIFACTS');
const STEP = process.argv[2];
mkdirSync(ARTIFACTS, { recursive: true });

const problems = [];
const checkedLinks = new Map();
const result = {};

function fail(message) { throw new Error(`${STEP}: ${message}`); }

async function launch(fakeVideo) {
  const args = ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];
  if (fakeVideo) { args.push(`--use-file-for-fake-video-capture=${fakeVideo}`); }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
  });
  // A phone: the portals are used at the counter and on the go.
  const context = await browser.newContext({
    baseURL: BASE,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: false,
    hasTouch: true,
    locale: 'en-US',
    permissions: ['camera', 'geolocation'],
    geolocation: { latitude: 11.5696, longitude: 104.9211 },
  });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') { problems.push(`console error on ${page.url()}: ${message.text()}`); }
  });
  page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  return { browser, context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${STEP}-${name}.png`), fullPage: true });
}

/// The page's own rules: no inline script, nothing wider than the phone, every link answers.
async function inspect(page, context, name) {
  const facts = await page.evaluate(() => ({
    inline: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
    unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).map((el) => el.name),
    lang: document.documentElement.lang,
  }));
  if (facts.inline || facts.handlers) { problems.push(`${name}: inline script (${facts.inline} elements, ${facts.handlers} handlers)`); }
  if (facts.overflow > 1) { problems.push(`${name}: ${facts.overflow}px wider than a phone screen`); }
  if (facts.unlabelled.length) { problems.push(`${name}: fields without a label: ${facts.unlabelled.join(', ')}`); }
  if (!facts.lang) { problems.push(`${name}: no language on <html>`); }
  for (const href of facts.links) {
    const url = new URL(href);
    if (url.origin !== new URL(BASE).origin) { continue; }
    // Choosing a language is a link that sets a cookie: following it would switch this session.
    if (url.pathname.startsWith('/lang/')) { continue; }
    const key = url.pathname + url.search;
    if (checkedLinks.has(key)) { continue; }
    const response = await context.request.get(key, { maxRedirects: 0 });
    checkedLinks.set(key, response.status());
    if (response.status() >= 400) { problems.push(`${name}: dead link ${key} (${response.status()})`); }
  }
}

async function visit(page, context, path, name) {
  const response = await page.goto(path);
  if (!response || response.status() >= 400) { fail(`${path} answered ${response && response.status()}`); }
  await shot(page, name);
  await inspect(page, context, name);
}

async function signIn(page, email, next) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForLoadState('load'), page.click('main form button[type=submit]')]);
  if (page.url().includes('/login')) { fail(`${email} could not sign in: ${await page.textContent('main')}`); }
}

async function flash(page, kind) {
  const message = page.locator(`.flash.${kind}`);
  await message.waitFor();
  return message.textContent();
}

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

const steps = {
  // The admin finds the application among those waiting and approves it.
  async 'admin-approves-merchant'({ page, context }) {
    await signIn(page, env('ADMIN_EMAIL'), '/admin');
    await visit(page, context, '/admin', 'dashboard');
    await visit(page, context, '/admin/merchants', 'applications');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: env('MERCHANT_NAME') }).click()]);
    await shot(page, 'application');
    await inspect(page, context, 'application');
    await submit(page, '#approve-merchant');
    await flash(page, 'ok');
    const state = await page.textContent('h1 .badge');
    if (state.trim() !== 'ACTIVE') { fail(`the merchant is ${state} after approval`); }
    await shot(page, 'approved');
    for (const [path, name] of [['/admin/products', 'moderation'], ['/admin/reviews', 'reviews'], ['/admin/fraud', 'fraud'],
      ['/admin/payouts', 'payouts'], ['/admin/users', 'users'], ['/admin/dead-letters', 'dead-letters']]) {
      await visit(page, context, path, name);
    }
  },

  // The owner opens an outlet and lists a voucher (sent for review).
  async 'merchant-lists-voucher'({ page, context }) {
    await signIn(page, env('OWNER_EMAIL'), '/merchant');
    const match = page.url().match(/\/merchant\/([0-9a-f-]{36})/);
    if (!match) { fail(`the owner landed on ${page.url()}, not the shop's dashboard`); }
    const shop = `/merchant/${match[1]}`;
    await shot(page, 'dashboard');
    await inspect(page, context, 'dashboard');
    await page.getByRole('link', { name: 'Outlets' }).click();
    await page.fill('#o-name', 'Riverside');
    await page.fill('#o-line1', 'Sisowath Quay 1');
    await page.fill('#o-city', 'Phnom Penh');
    await page.fill('#o-lat', '11.5696');
    await page.fill('#o-lng', '104.9211');
    await submit(page, 'form.card button[type=submit]');
    await flash(page, 'ok');
    await shot(page, 'outlets');
    await page.getByRole('link', { name: 'Vouchers' }).first().click();
    await page.getByRole('link', { name: 'New voucher' }).click();
    await shot(page, 'voucher-form');
    await inspect(page, context, 'voucher-form');
    await page.fill('#title', env('VOUCHER_TITLE'));
    await page.fill('#titleKm', 'ប័ណ្ណកាហ្វេ');
    await page.fill('#terms', 'One per visit.');
    await page.selectOption('#kind', 'GIFT_CARD');
    await page.fill('#price', '5.00');
    await page.fill('#faceValue', '6.00');
    await page.fill('#stock', '10');
    await submit(page, 'main form button[type=submit]');
    const done = await flash(page, 'ok');
    if (!done.includes('review')) { fail(`listing said: ${done}`); }
    if (!(await page.textContent('main')).includes(env('VOUCHER_TITLE'))) { fail('the new voucher is not in the list'); }
    await shot(page, 'vouchers');
    for (const [path, name] of [['', 'home'], ['/products', 'products'], ['/products/new', 'product-form'], ['/orders', 'orders'],
      ['/staff', 'staff'], ['/money', 'money'], ['/counter', 'counter']]) {
      await visit(page, context, `${shop}${path}`, name);
    }
    result.merchantPath = shop;
  },

  // The admin approves the voucher waiting in the moderation queue: it is listed.
  async 'admin-approves-voucher'({ page, context }) {
    await signIn(page, env('ADMIN_EMAIL'), '/admin/products');
    const row = page.locator('tr', { hasText: env('VOUCHER_TITLE') });
    await row.waitFor();
    await shot(page, 'queue');
    await Promise.all([page.waitForLoadState('load'), row.getByRole('button', { name: 'Approve' }).click()]);
    await flash(page, 'ok');
    await shot(page, 'approved');
    await inspect(page, context, 'approved');
  },

  // The customer buys two with the simulator and sees them, with their QR code, in the wallet.
  async 'customer-buys'({ page, context }) {
    await signIn(page, env('CUSTOMER_EMAIL'), '/');
    await visit(page, context, '/', 'home');
    await visit(page, context, '/lang/km?back=/', 'home-km');
    if ((await page.getAttribute('html', 'lang')) !== 'km') { fail('the Khmer page is not marked lang=km'); }
    await page.goto('/lang/en?back=/offers');
    await shot(page, 'offers');
    await inspect(page, context, 'offers');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: env('VOUCHER_TITLE') }).first().click()]);
    await shot(page, 'offer');
    await inspect(page, context, 'offer');
    await page.fill('#quantity', '2');
    await submit(page, 'form.buy button[type=submit]');
    await flash(page, 'ok');
    await shot(page, 'cart');
    await inspect(page, context, 'cart');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Check out' }).click()]);
    await shot(page, 'checkout');
    await submit(page, 'main form button[type=submit]');
    if (!/\/checkout\/[0-9a-f-]{36}$/.test(page.url())) { fail(`checkout went to ${page.url()}: ${await page.textContent('main')}`); }
    await page.check('input[name=method][value=simulator]');
    await shot(page, 'pay');
    await inspect(page, context, 'pay');
    await submit(page, 'main form button[type=submit]');
    await shot(page, 'payment');
    await submit(page, 'form[action$="/simulate"] button');
    await page.locator('#payment-status .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 30000 });
    await shot(page, 'paid');
    // The order is paid and its vouchers issued by events: the wallet fills shortly after.
    let tiles = 0;
    for (let attempt = 0; attempt < 30 && tiles < 2; attempt += 1) {
      await page.goto('/wallet?status=ACTIVE');
      tiles = await page.locator('.tile', { hasText: env('VOUCHER_TITLE') }).count();
      if (tiles < 2) { await page.waitForTimeout(500); }
    }
    if (tiles !== 2) { fail(`the wallet shows ${tiles} of the 2 vouchers bought`); }
    await shot(page, 'wallet');
    await inspect(page, context, 'wallet');
    const links = await page.locator('.tile a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    result.vouchers = [];
    for (const href of links.slice(0, 2)) {
      await page.goto(href);
      const qr = page.locator('#voucher-qr img');
      await qr.waitFor();
      result.vouchers.push({
        id: href.split('/').pop(),
        code: (await page.textContent('#voucher-code')).trim(),
        pin: (await page.textContent('#voucher-pin')).trim(),
      });
    }
    await shot(page, 'voucher');
    await inspect(page, context, 'voucher');
    // The on-screen code rotates: the page fetches a new one every 30 seconds.
    const first = await page.getAttribute('#voucher-qr img', 'src');
    await page.waitForFunction((before) => {
      const img = document.querySelector('#voucher-qr img');
      return img && img.getAttribute('src') !== before;
    }, first, { timeout: 45000, polling: 1000 });
    await shot(page, 'voucher-rotated');
    for (const [path, name] of [['/products', 'products'], ['/account', 'account'], ['/orders', 'orders']]) {
      await visit(page, context, path, name);
    }
    const order = page.locator('main table a').first();
    await Promise.all([page.waitForLoadState('load'), order.click()]);
    await shot(page, 'order');
    await inspect(page, context, 'order');
  },

  // The cashier types the code and PIN at the counter.
  async 'cashier-types-code'({ page, context }) {
    await signIn(page, env('CASHIER_EMAIL'), '/merchant');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Open the counter' }).click()]);
    await shot(page, 'counter');
    await inspect(page, context, 'counter');
    await page.fill('#code', env('CODE'));
    await page.fill('#pin', env('PIN'));
    await submit(page, '#redeem-submit');
    const outcome = await page.getAttribute('#redemption-result', 'data-status');
    await shot(page, 'result');
    if (outcome !== 'APPROVED') { fail(`typed redemption: ${outcome}: ${await page.textContent('main')}`); }
    if (!(await page.textContent('.band')).includes('risk')) { fail('no fraud band shown'); }
  },

  // The cashier scans the customer's screen with the camera (a fake stream of the QR image).
  async 'cashier-scans-qr'({ page }) {
    await signIn(page, env('CASHIER_EMAIL'), '/merchant');
    const shop = page.url().replace(/\/$/, '');
    await page.goto(`${shop}/counter`);
    await page.click('#scanner-start');
    await page.locator('#redemption-result').waitFor({ timeout: 30000 });
    const outcome = await page.getAttribute('#redemption-result', 'data-status');
    await shot(page, 'result');
    if (outcome !== 'APPROVED') { fail(`scanned redemption: ${outcome}: ${await page.textContent('main')}`); }
  },

  // The customer sees both vouchers redeemed.
  async 'customer-sees-redeemed'({ page, context }) {
    await signIn(page, env('CUSTOMER_EMAIL'), '/wallet');
    await page.goto(`/wallet/${env('VOUCHER_ID')}`);
    const state = (await page.textContent('#voucher-status')).trim();
    await shot(page, 'voucher');
    if (state !== 'REDEEMED') { fail(`the voucher is ${state}`); }
    if (await page.locator('#voucher-qr img').count()) { fail('a redeemed voucher still shows a QR code'); }
    await visit(page, context, '/wallet?status=REDEEMED', 'redeemed');
    const redeemed = await page.locator('.tile', { hasText: env('VOUCHER_TITLE') }).count();
    if (redeemed !== 2) { fail(`${redeemed} of 2 vouchers show as redeemed`); }
  },
};

const step = steps[STEP];
if (!step) { console.error(`unknown step ${STEP}; steps: ${Object.keys(steps).join(', ')}`); process.exit(2); }
const session = await launch(process.env.FAKE_VIDEO);
try {
  await step(session);
} catch (error) {
  try { await shot(session.page, 'failure'); } catch { /* the page may be gone */ }
  console.error(error.stack || String(error));
  process.exitCode = 1;
} finally {
  await session.browser.close();
}
if (problems.length) {
  console.error(`${STEP}: ${problems.length} page problem(s):\n${problems.join('\n')}`);
  process.exitCode = 1;
}
console.log(JSON.stringify(result));
