import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'public/',
      'test-results/',
      'bench-results/',
      'out/',
      'scripts/gpu-check/',
      '.gpucheck/',
      '.gl/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The engine runs in workers, Node and the CLI: no `any`, no DOM (tsconfig.engine.json
    // compiles it without the DOM lib), and nothing from the layers above it.
    files: ['src/engine/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(state|views|ui|worker|protocol|cli|bench)(/|$)',
              message:
                'The engine imports nothing from state, views, ui, worker, protocol, cli or bench: they build on it.',
            },
          ],
        },
      ],
    },
  },
  {
    // The messages between page and workers: engine types only, and no side's code, so both
    // sides can import it.
    files: ['src/protocol/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(state|views|ui|worker|cli|bench)(/|$)',
              message:
                'src/protocol imports neither side: page (state, views, ui) and workers both import it.',
            },
            {
              regex: '(^|/)engine(/|$)',
              allowTypeImports: true,
              message: 'src/protocol carries engine types only (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    // src/worker holds only code that runs in workers: nothing of the page's threads.
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(state|views|ui|cli|bench)(/|$)',
              message:
                'Workers import the engine and src/protocol, never the page (state, views, ui) or the CLI.',
            },
          ],
        },
      ],
    },
  },
  {
    // Stores hold state; the page's components and the worker client (src/ui) drive them.
    files: ['src/state/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(views|ui|worker|cli|bench)(/|$)',
              message:
                'Stores import the engine and src/protocol, never views, ui, workers or the CLI.',
            },
          ],
        },
      ],
    },
  },
  {
    // Views draw what the stores hold: engine types only, never engine code.
    files: ['src/views/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)engine(/|$)',
              allowTypeImports: true,
              message:
                'Views import engine types only (import type); values come through the stores in src/state.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
