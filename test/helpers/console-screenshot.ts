// Writes the README's console screenshot from a real gateway and the system Chromium:
//   npm run build && node dist/test/helpers/console-screenshot.js docs/console.png
import { launchChromium } from './browser.js';
import { irisSweep, IRIS_FEATURES, settle, startExtractionGateway } from './extraction-gateway.js';

const out = process.argv[2] ?? 'docs/console.png';
const LADDER = { degradeAt: 3, throttleAt: 6, blockAt: 9, throttleFactor: 50, halfLifeSeconds: 3600, hysteresis: 0.5 };
const g = await startExtractionGateway({
  mode: 'enforce',
  features: IRIS_FEATURES,
  actions: LADDER,
  timelineBucketSeconds: 10,
});
const browser = await launchChromium();
try {
  const rng = (() => {
    let s = 7;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  })();
  for (let u = 0; u < 12; u++) {
    for (let i = 0; i < 3; i++)
      await g.predictAs(`analyst-${u}`, [
        IRIS_FEATURES.centre.map((c, j) => Math.round((c + IRIS_FEATURES.scale[j]! * rng()) * 100) / 100),
      ]);
  }
  // Attackers of different persistence: a sweep spread over minutes, so the timeline has several intervals.
  for (const [sub, queries] of [
    ['mallory', 40],
    ['trudy', 24],
    ['eve', 18],
    ['sybil-3', 14],
  ] as const) {
    const sweep = irisSweep();
    for (let i = 0; i < queries; i++) {
      await g.predictAs(sub, [sweep.next().value!]);
      await settle();
      g.advance(4_000);
    }
  }
  await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|eve`)}/allow`, {
    body: { model: 'iris', seconds: 86400, reason: 'pen test' },
  });
  const context = await browser.newContext({ viewport: { width: 1240, height: 1500 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(`${g.adminUrl}/console`);
  await page.fill('#token', await g.operatorToken('oncall-oscar'));
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.click(`#accounts tbody tr[data-user="${g.issuer.issuer}|mallory"]`);
  await page.waitForSelector('#timeline svg');
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  await g.close();
}
