// Screenshots of each screen: always into test-artifacts/screenshots/, and
// with UPDATE_DOC_SCREENSHOTS=1 also into docs/screenshots/ for the README.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifactDir = path.join(repositoryRoot, 'test-artifacts/screenshots');
const docsDir = path.join(repositoryRoot, 'docs/screenshots');

export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(artifactDir, { recursive: true });
  const file = path.join(artifactDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  if (process.env.UPDATE_DOC_SCREENSHOTS === '1') {
    await mkdir(docsDir, { recursive: true });
    await copyFile(file, path.join(docsDir, `${name}.png`));
  }
}

export const matricesDir = process.env.SCT_MATRICES_DIR ?? path.resolve(repositoryRoot, '../shared/data/matrices');
