import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canChooseTheme, resolveTheme } from '../../src/connect/branding/theme.js';
import type { ThemeSetting } from '../../src/connect/branding/theme.js';

type Row = [param: string | undefined, clientDefault: ThemeSetting, remembered: string | undefined, expected: ThemeSetting];

// theme parameter → client default when light/dark → remembered (only when the default is auto) → device (auto)
const rows: Row[] = [
  ['dark', 'light', 'light', 'dark'],
  ['light', 'dark', 'dark', 'light'],
  ['light', 'auto', 'dark', 'light'],
  ['dark', 'auto', undefined, 'dark'],
  [undefined, 'light', 'dark', 'light'],
  [undefined, 'dark', 'light', 'dark'],
  [undefined, 'auto', 'dark', 'dark'],
  [undefined, 'auto', 'light', 'light'],
  [undefined, 'auto', undefined, 'auto'],
  [undefined, 'auto', 'auto', 'auto'],
  [undefined, 'auto', 'purple', 'auto'],
  ['auto', 'dark', 'light', 'light'], // the app asked for auto: the user's choice applies
  ['auto', 'light', undefined, 'auto'],
  ['bogus', 'dark', 'light', 'dark'], // invalid parameter ignored
  ['DARK', 'light', undefined, 'light'], // exact values only
  ['', 'auto', 'dark', 'dark'],
];

for (const [param, clientDefault, remembered, expected] of rows) {
  test(`resolveTheme(param=${param}, default=${clientDefault}, remembered=${remembered}) = ${expected}`, () => {
    assert.equal(resolveTheme({ param, clientDefault, remembered }), expected);
  });
}

test('canChooseTheme: only when nothing forces a theme', () => {
  assert.equal(canChooseTheme({ clientDefault: 'auto' }), true);
  assert.equal(canChooseTheme({ param: 'auto', clientDefault: 'dark' }), true);
  assert.equal(canChooseTheme({ clientDefault: 'dark' }), false);
  assert.equal(canChooseTheme({ param: 'light', clientDefault: 'auto' }), false);
});
