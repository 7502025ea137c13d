import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import {
  irisSweep,
  IRIS_FEATURES,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

// The page's globals, for the functions this file hands to the browser (the project compiles without the DOM library).
declare const window: Record<string, unknown>;
declare const sessionStorage: { readonly length: number };
declare const document: {
  readonly body: { insertAdjacentHTML(where: string, markup: string): void };
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (e: { readonly effectiveDirective: string }) => void,
  ): void;
};

const LADDER = { degradeAt: 3, throttleAt: 6, blockAt: 9, throttleFactor: 50, halfLifeSeconds: 3600, hysteresis: 0.5 };
// A subject an attacker chose so that it reads as markup wherever an id is pasted into HTML.
const CRAFTED_SUB = `"><img src=/x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;

async function escalate(g: ExtractionGateway, sub: string, queries: number): Promise<void> {
  const sweep = irisSweep();
  for (let i = 0; i < queries; i++) {
    await g.predictAs(sub, [sweep.next().value!]);
    await settle();
  }
}

/** A fresh browser context that records the page's CSP violations and every request it makes. */
async function openConsole(
  browser: Browser,
  g: ExtractionGateway,
): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const violations: string[] = [];
    window['__violations'] = violations;
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
  });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${g.adminUrl}/console`);
  return { context, page, requests };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
}

describe('the security console in a real browser', () => {
  let g: ExtractionGateway;
  let browser: Browser;
  let mallory: string;
  let crafted: string;
  before(async () => {
    [g, browser] = await Promise.all([
      startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER }),
      launchChromium(),
    ]);
    mallory = `${g.issuer.issuer}|mallory`;
    crafted = `${g.issuer.issuer}|${CRAFTED_SUB}`;
    await escalate(g, 'mallory', 30);
    await escalate(g, CRAFTED_SUB, 30);
    await g.predictAs('alice', [[5.8, 3.0, 4.3, 1.3]]);
  });
  after(async () => {
    await browser?.close();
    await g?.close();
  });

  it('shows nothing but the sign-in to a visitor without operator credentials', async () => {
    const { context, page, requests } = await openConsole(browser, g);
    try {
      assert.ok(await page.isVisible('#login'));
      assert.ok(await page.isHidden('#app'));
      assert.deepEqual(
        requests.filter((p) => !p.startsWith('/console')),
        [],
        'no data request without a token',
      );
      assert.ok(!(await page.textContent('body'))!.includes('mallory'));
    } finally {
      await context.close();
    }
  });

  it('keeps a token without the operator role at the sign-in, with the refusal', async () => {
    const { context, page } = await openConsole(browser, g);
    try {
      await signIn(page, await g.issuer.token({ sub: 'alice', claims: { roles: ['model-owner'] } }));
      await page.waitForSelector('#login-error:has-text("operator role")');
      assert.ok(await page.isHidden('#app'));
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the refused token is not kept');
    } finally {
      await context.close();
    }
  });

  it('has the CSP block the scripts of a crafted user id written into the page as markup', async () => {
    // What a template that forgot to escape would serve: the id pasted into the console's HTML.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      const violations: string[] = [];
      window['__violations'] = violations;
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
    });
    await page.route('**/console', async (route) => {
      const real = await route.fetch();
      const html = (await real.text()).replace('<main>', `<main><p>${crafted}</p>`);
      await route.fulfill({ response: real, body: html });
    });
    try {
      const answer = await page.goto(`${g.adminUrl}/console`);
      assert.match(answer!.headers()['content-security-policy']!, /script-src 'self'/);
      await page.waitForFunction(() => (window['__violations'] as string[]).includes('script-src-attr'));
      const violations = (await page.evaluate(() => window['__violations'])) as string[];
      assert.ok(violations.includes('script-src-elem'), violations.join());
      assert.equal(await page.evaluate(() => window['__pwned']), undefined);
    } finally {
      await context.close();
    }
  });

  describe('signed in as an operator', () => {
    let context: BrowserContext;
    let page: Page;
    before(async () => {
      ({ context, page } = await openConsole(browser, g));
      await signIn(page, await g.operatorToken());
      await page.waitForSelector('#app:not([hidden])');
    });
    after(() => context?.close());

    it('lists the flagged account from the gateway with its level and detector', async () => {
      const row = page.locator('#accounts tbody tr', { has: page.locator('td.user', { hasText: 'mallory' }) });
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[0], mallory);
      assert.equal(cells[1], 'iris');
      assert.equal(cells[2], 'block');
      const view = (await g.admin(`/extraction/users/${encodeURIComponent(mallory)}`)).json<{
        models: Array<{ lastDetector: string | null; firstAlarm?: { detector: string } | null }>;
      }>().models[0]!;
      const detector = view.firstAlarm?.detector ?? view.lastDetector;
      assert.ok(detector, 'the gateway names the detector that fired');
      assert.equal(cells[4], detector);
      assert.equal(await page.locator('#models article[data-model="iris"] h3').textContent(), 'irisenforce');
      assert.deepEqual(await context.cookies(), [], 'no cookie: the token lives in sessionStorage only');
    });

    it('sorts the table by a column', async () => {
      await page.click('#accounts th[data-key="queries"] button');
      assert.equal(await page.getAttribute('#accounts th[data-key="queries"]', 'aria-sort'), 'ascending');
      const ascending = (await page.locator('#accounts tbody td:nth-child(7)').allTextContents()).map(Number);
      assert.deepEqual(
        ascending,
        [...ascending].sort((a, b) => a - b),
      );
      await page.click('#accounts th[data-key="queries"] button');
      const descending = (await page.locator('#accounts tbody td:nth-child(7)').allTextContents()).map(Number);
      assert.deepEqual(descending, [...ascending].reverse());
    });

    it('draws the account timeline as a chart', async () => {
      await page.click(`#accounts tbody tr[data-user="${mallory}"]`);
      await page.waitForSelector('#detail:not([hidden]) #timeline svg');
      assert.equal(await page.textContent('#detail-user'), mallory);
      const bars = await page.locator('#timeline svg .bars rect').count();
      assert.ok(bars >= 1, `bars: ${bars}`);
      const line = await page.getAttribute('#timeline svg path.level-line', 'd');
      assert.match(line ?? '', /^M[\d.]+,[\d.]+(H[\d.]+V[\d.]+)+H[\d.]+$/);
      const view = (await g.admin(`/extraction/users/${encodeURIComponent(mallory)}`)).json<{
        models: Array<{ timeline: unknown[]; levelChanges: unknown[] }>;
      }>().models[0]!;
      assert.ok(view.timeline.length >= 1, 'the gateway reports a timeline');
      assert.equal(await page.locator('#timeline svg .change').count(), view.levelChanges.length);
      assert.match((await page.textContent('#timeline-caption'))!, /per interval/);
    });

    it('shows a crafted user id as text, and no script of it runs', async () => {
      const cell = page.locator('#accounts tbody td.user', { hasText: 'onerror' });
      assert.equal(await cell.textContent(), crafted);
      assert.equal(await page.locator('#accounts img').count(), 0);
      assert.equal(await page.evaluate(() => window['__pwned']), undefined);
    });

    it('has Trusted Types refuse markup handed to an HTML sink', async () => {
      const sink = await page.evaluate((markup) => {
        try {
          document.body.insertAdjacentHTML('beforeend', markup);
          return 'inserted';
        } catch (e) {
          return (e as Error).name;
        }
      }, CRAFTED_SUB);
      assert.equal(sink, 'TypeError');
      assert.ok(
        ((await page.evaluate(() => window['__violations'])) as string[]).includes('require-trusted-types-for'),
      );
    });

    it('clears the account from the console, and the gateway forgets it', async () => {
      await page.click(`#accounts tbody tr[data-user="${mallory}"]`);
      await page.waitForSelector('#detail:not([hidden])');
      await page.click('#detail button[data-action="clear"]');
      await page.waitForSelector('#confirm[open]');
      assert.match((await page.textContent('#confirm-text'))!, /Clear the extraction evidence of .*mallory/);
      await page.click('#confirm-ok');
      await page.waitForSelector('#action-result:has-text("Done: clear")');
      assert.equal((await g.admin(`/extraction/users/${encodeURIComponent(mallory)}`)).status, 404);
      assert.equal((await g.predictAs('mallory', [[5.8, 3.0, 4.3, 1.3]])).status, 200);
      assert.equal(await page.locator(`#accounts tbody tr[data-user="${mallory}"]`).count(), 0);
      assert.match((await page.textContent('#audit li'))!, /oscar clear .*mallory on iris/);
    });

    it('does nothing when the operator cancels the confirmation', async () => {
      await page.click('#accounts tbody tr:first-child');
      await page.waitForSelector('#detail:not([hidden])');
      const user = await page.textContent('#detail-user');
      await page.click('#detail button[data-action="block"][data-seconds="3600"]');
      await page.waitForSelector('#confirm[open]');
      await page.click('#confirm button[value="cancel"]');
      await page.waitForSelector('#confirm:not([open])', { state: 'attached' });
      const view = (await g.admin(`/extraction/users/${encodeURIComponent(user!)}`)).json<{
        models: Array<{ override?: unknown }>;
      }>();
      assert.equal(view.models[0]!.override, undefined);
    });

    it('sends the operator back to the sign-in once signed out', async () => {
      await page.click('#logout');
      assert.ok(await page.isVisible('#login'));
      assert.equal(await page.locator('#accounts tbody tr').count(), 0);
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    });
  });
});
