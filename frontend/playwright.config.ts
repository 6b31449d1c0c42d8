import { defineConfig } from '@playwright/test';

// End-to-end tests against the running stack through nginx. Playwright's own
// browser download is not used: the tests drive the system Chromium.
export default defineConfig({
  testDir: './e2e',
  outputDir: '../test-artifacts/playwright',
  // Generous: a task may wait in the queue behind other users' work.
  timeout: 480_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? 'https://127.0.0.1:8443',
    // The local stack's certificate is self-signed.
    ignoreHTTPSErrors: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
