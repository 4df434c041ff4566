// Headless Chromium for the browser tests: Debian's chromium package
// driven by playwright-core (npm), which never downloads a browser.
//
//   const why = await browserMissing();  // null, or why no browser can run
//   const browser = await launchBrowser();
//
// CHROMIUM_BIN selects another Chromium binary (default /usr/bin/chromium).

import fs from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

// No background traffic (the machines have no network but the package
// registries); playwright adds --headless, --no-sandbox (chromiumSandbox is
// off by default) and a fresh --user-data-dir of its own.
export const CHROMIUM_ARGS = [
  '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-dev-shm-usage',
];

let pw;
async function playwright() {
  if (pw === undefined) {
    try {
      pw = await import('playwright-core');
    } catch {
      pw = null;
    }
  }
  return pw;
}

// Why the browser tests cannot run here, or null when they can.
export async function browserMissing() {
  if (!(await playwright())) return 'playwright-core is not installed (scripts/setup: npm ci in tests/)';
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    return `${CHROMIUM} not found (scripts/setup installs Debian's chromium)`;
  }
  return null;
}

export async function launchBrowser() {
  const { chromium } = await playwright();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
}
