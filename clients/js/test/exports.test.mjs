// Every value the SDK exports is declared in parlor.d.ts, and every value declared there is
// exported: a TypeScript user can reach all of it and nothing declared is missing at run time.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as sdk from '../src/parlor.js';

test('the run-time exports and the declared values are the same set', () => {
  const declarations = readFileSync(new URL('../src/parlor.d.ts', import.meta.url), 'utf8');
  const declared = new Set();
  for (const m of declarations.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)) declared.add(m[1]);
  for (const m of declarations.matchAll(/^export \{([^}]+)\} from/gm)) {
    for (const name of m[1].split(',')) declared.add(name.trim());
  }
  assert.deepEqual([...Object.keys(sdk)].sort(), [...declared].sort());
});
