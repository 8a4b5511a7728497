import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../../src/app';
import { withContractCheck } from '../../helpers/contract';
import { createCustomer, createUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';

// The docs page in headless Chromium (Debian's; .ci/run installs it): it renders, a person
// authorizes with a token and sends GET /api/customers from the page, and nothing leaves this machine.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'];

describeIf(CHROMIUM !== undefined, 'docs page browser test', 'no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)')('GET /api/docs in headless Chromium', () => {
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    server = createServer(withContractCheck(createApp()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test('shows the customers operations; authorized with a token, sends GET /api/customers and shows the answer; no request to another host', async () => {
    const customer = await createCustomer({ name: `Browser Visible ${Date.now()}` });
    const { auth } = await createUser({ role: 'user' });
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    const problems: string[] = [];
    const sentAuthorization: (string | undefined)[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.origin !== base) elsewhere.push(request.url());
      if (url.pathname === '/api/customers') sentAuthorization.push(request.headers().authorization);
    });
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (err) => problems.push(err.message));

    await page.goto(`${base}/api/docs`);
    const list = page.locator('#operations-Customers-listCustomers');
    await list.waitFor({ timeout: 20_000 });
    for (const id of ['createCustomer', 'getCustomer', 'updateCustomer', 'replaceCustomer', 'deleteCustomer']) {
      await page.locator(`#operations-Customers-${id}`).waitFor();
    }

    await page.locator('.auth-wrapper button.authorize').click();
    const bearer = page.locator('.modal-ux form').filter({ hasText: 'bearerAuth' });
    await bearer.locator('input[type=text]').fill(auth.replace(/^Bearer /, ''));
    await bearer.locator('button.authorize').click();
    await page.locator('.modal-ux button.btn-done').first().click();

    await list.locator('.opblock-summary').click();
    await list.locator('button.execute').click();
    const status = list.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.textContent())?.trim()).toBe('200');
    await expect(list.locator('.live-responses-table tr.response .response-col_description').first().textContent()).resolves.toContain(customer.name);

    expect(sentAuthorization).toEqual([auth]);
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
