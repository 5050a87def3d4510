import tseslint from 'typescript-eslint';
import { boundaries } from './eslint.boundaries.js';

export default tseslint.config(
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'data/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // The CLI and scripts talk to a terminal on purpose.
    files: ['src/cli/**', 'scripts/**', 'bin/**', 'bench/**', 'examples/**', 'src/main.ts'],
    rules: { 'no-console': 'off' },
  },
  ...boundaries(),
);
