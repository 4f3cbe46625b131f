import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The version and project URL come from package.json at runtime so a release only bumps one file.
// This module runs as src/version.ts (tsx, vitest) and as dist/version.js (built); both sit one
// level below the repository root, but we walk up a few levels instead of hard-coding '../' so a
// different build layout (e.g. tsc with rootDir '.', which emits dist/src/version.js) still works.
// We only accept the package.json whose name is ours, never a parent project's.

interface PackageInfo {
  readonly version: string;
  readonly homepage: string;
}

const PACKAGE_NAME = 'tributary';

function readPackageInfo(): PackageInfo {
  const tried: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const file = join(dir, 'package.json');
    tried.push(file);
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // Not here: keep walking up.
    }
    if (text !== null) {
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown; homepage?: unknown };
      if (pkg.name === PACKAGE_NAME) {
        if (typeof pkg.version !== 'string' || typeof pkg.homepage !== 'string') {
          throw new Error(`${file}: "version" and "homepage" must be strings`);
        }
        return { version: pkg.version, homepage: pkg.homepage };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // An installation without its package.json is broken; fail at boot, naming where we looked.
  throw new Error(`Cannot find Tributary's package.json (looked at ${tried.join(', ')})`);
}

const info = readPackageInfo();

export const VERSION: string = info.version;
export const PROJECT_URL: string = info.homepage;
/** Identifies us to publishers with a way to reach the project (a common feed-crawler courtesy). */
export const USER_AGENT = `Tributary/${VERSION} (+${PROJECT_URL})`;
