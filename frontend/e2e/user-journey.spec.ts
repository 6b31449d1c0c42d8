import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { matricesDir, saveScreenshot } from './screenshots';

// One user's day, in order: each step builds on the tasks of the one before.
test.describe.configure({ mode: 'serial' });

const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
const password = 'a long enough passphrase';
let page: Page;
let fileTaskUrl = '';
let cancelledTaskUrl = '';

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

test.afterAll(async () => {
  await page.close();
});

test('sign up after field errors', async () => {
  await page.goto('/tasks');
  await expect(page).toHaveURL(/\/login\?next=/);
  await saveScreenshot(page, 'log-in');

  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('E-mail').fill('not-an-address');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByText('Enter a valid e-mail address')).toBeVisible();
  await expect(page.getByText('Use at least 8 characters.')).toBeVisible();
  await saveScreenshot(page, 'sign-up-errors');

  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'New task' })).toBeVisible();
});

test('duplicate sign-up marks the e-mail', async () => {
  const other = await page.context().browser()!.newPage();
  await other.goto('/register');
  await other.getByLabel('E-mail').fill(email);
  await other.getByLabel('Password').fill(password);
  await other.getByRole('button', { name: 'Sign up' }).click();
  await expect(other.getByLabel('E-mail')).toHaveAttribute('aria-invalid', 'true');
  await expect(other.getByLabel('E-mail')).toHaveAccessibleDescription(/.+/);
  await other.close();
});

test('Matrix Market task completes', async () => {
  await page.goto('/tasks/new');
  await saveScreenshot(page, 'new-task-grid');
  await page.getByLabel('Upload files').check();
  await page.getByLabel('Matrix A').setInputFiles(path.join(matricesDir, 'simple-solver_A.mtx'));
  await page.getByLabel('Right-hand side b').setInputFiles(path.join(matricesDir, 'simple-solver_b.mtx'));
  await expect(page.getByText('MTX, 19 × 19')).toBeVisible();
  await saveScreenshot(page, 'new-task-files');
  await page.getByRole('button', { name: 'Submit task' }).click();

  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  fileTaskUrl = page.url();
  await expect(page.locator('.task-header').getByText('Completed')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByRole('progressbar', { name: 'Task progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByRole('list', { name: 'First entries of x' })).toContainText('x1');
  // x1 of this system is 0.252217952 (LAPACK's dense solve of the same A and b).
  await expect(page.getByRole('list', { name: 'First entries of x' })).toContainText('0.25221795');
  await expect(page.getByRole('img', { name: /Sparsity pattern of a 19 by 19 matrix/ })).toBeVisible();
  for (const format of ['JSON', 'CSV', 'NPY', 'MTX']) {
    await expect(page.getByRole('button', { name: `Download ${format}` })).toBeVisible();
  }
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CSV' }).click();
  expect((await download).suggestedFilename()).toMatch(/^x-.*\.csv$/);
  await saveScreenshot(page, 'task-completed');
});

test('large generated task is cancelled', async () => {
  await page.goto('/tasks/new');
  await page.getByLabel('Generate a problem').check();
  await page.getByLabel('Problem kind').selectOption('random_dense');
  await page.getByLabel('Size n').fill('10000');
  await page.getByLabel('Seed').fill('7');
  await page.getByLabel('Method').selectOption('lu');
  await saveScreenshot(page, 'new-task-generated');
  await page.getByRole('button', { name: 'Submit task' }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  cancelledTaskUrl = page.url();

  // Live updates: the bar moves above 0% while the page stays put.
  await expect(page.getByText(/^Live \((WebSocket|SSE)\)$/)).toBeVisible({ timeout: 60_000 });
  await expect
    .poll(async () => Number(await page.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 300_000 })
    .toBeGreaterThan(0);
  await expect(page.locator('.task-header').getByText('Running')).toBeVisible();
  await expect(page.getByRole('img', { name: /Progress over time: [1-9]\d* points/ })).toBeVisible({ timeout: 30_000 });
  await saveScreenshot(page, 'task-running');

  await page.getByRole('button', { name: 'Cancel task' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('Cancel this task?');
  await saveScreenshot(page, 'task-cancel-confirm');
  await page.getByRole('button', { name: 'Yes, cancel the task' }).click();
  await expect(page.locator('.task-header').getByText('Cancelled')).toBeVisible({ timeout: 30_000 });
  await saveScreenshot(page, 'task-cancelled');
});

test('iterative solve charts its residual', async () => {
  await page.goto('/tasks/new');
  await page.getByLabel('Generate a problem').check();
  await page.getByLabel('Problem kind').selectOption('poisson2d');
  await page.getByLabel('Grid side m').fill('200');
  await page.getByLabel('Method').selectOption('cg');
  await page.getByRole('button', { name: 'Submit task' }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);

  await expect(page.locator('.task-header').getByText('Completed')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByRole('img', { name: /Residual per iteration: ([2-9]|\d{2,}) points/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /Sparsity pattern of a 40000 by 40000 matrix with 199200 stored entries/ })).toBeVisible();
  await expect(page.getByRole('list', { name: 'First entries of x' })).toContainText('x1');
  await saveScreenshot(page, 'task-iterative');
});

test('singular system fails with reason', async () => {
  await page.goto('/tasks/new');
  await page.getByLabel('A row 1 column 1').focus();
  // A spreadsheet copy of [[1, 2], [2, 4]] with b = [1, 2]: the rows are dependent.
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', '1\t2\t1\n2\t4\t2\n');
    document.activeElement!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await expect(page.getByLabel('Size n')).toHaveValue('2');
  await page.getByLabel('Method').selectOption('lu');
  await page.getByRole('button', { name: 'Submit task' }).click();

  await expect(page.locator('.task-header').getByText('Failed')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByRole('heading', { name: 'The task failed' })).toBeVisible();
  await expect(page.getByText(/singular/).first()).toBeVisible();
  await saveScreenshot(page, 'task-failed');
});

test('history lists and filters tasks', async () => {
  await page.goto('/tasks');
  const rows = page.getByRole('row');
  const fileRow = rows.filter({ hasText: fileTaskUrl.split('/').pop()!.slice(0, 8) });
  const cancelledRow = rows.filter({ hasText: cancelledTaskUrl.split('/').pop()!.slice(0, 8) });
  await expect(fileRow).toContainText('Completed');
  await expect(fileRow).toContainText('19 × 19');
  await expect(cancelledRow).toContainText('Cancelled');
  await expect(cancelledRow).toContainText('lu');
  await saveScreenshot(page, 'history');

  await page.getByLabel('Status').selectOption('cancelled');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=cancelled/);
  await expect(page.getByRole('row').filter({ hasText: 'Completed' })).toHaveCount(0);
  await expect(page.getByRole('row').filter({ hasText: 'Cancelled' })).toHaveCount(1);

  await page.getByRole('row').filter({ hasText: 'Cancelled' }).getByRole('link').click();
  await expect(page).toHaveURL(cancelledTaskUrl);
});

test('history fits phone width', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/tasks');
  await expect(page.getByRole('cell', { name: /Completed/ }).first()).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await saveScreenshot(page, 'history-phone');
  await page.goto(fileTaskUrl);
  await expect(page.locator('.task-header').getByText('Completed')).toBeVisible();
  await saveScreenshot(page, 'task-completed-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('offline banner appears and clears', async () => {
  await page.goto('/tasks');
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await page.context().setOffline(true);
  await expect(page.getByText('You are offline.')).toBeVisible();
  await saveScreenshot(page, 'connection-lost');
  await page.context().setOffline(false);
  await expect(page.getByText('You are offline.')).toBeHidden();
});

test('session survives reload, ends at log out', async () => {
  await page.goto('/tasks');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login/);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  expect(stored).toBe('{}');

  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('a wrong passphrase');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();

  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
});
