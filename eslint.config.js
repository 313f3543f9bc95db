import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layers, lowest first: db ← engine ← providers/notify ← billing/observability ← http/web ← main/cli.
// Modules at the root of src/ (errors.ts, ids.ts) are below every layer: anyone may import them.
// A module may import from its own layer and those below, never above. Billing and observability
// share a level and know nothing of each other: the engine and notify emit hook events, main.ts
// wires them to metrics, traces and logs.
const layers = {
  db: ['engine', 'providers', 'notify', 'billing', 'observability', 'http', 'web'],
  engine: ['providers', 'notify', 'billing', 'observability', 'http', 'web'],
  providers: ['billing', 'observability', 'http', 'web'],
  notify: ['billing', 'observability', 'http', 'web'],
  billing: ['observability', 'http', 'web'],
  observability: ['billing', 'http', 'web'],
  http: ['web'],
  web: ['http'],
};

const forbid = (above) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...above.map((layer) => ({
          group: [`**/${layer}/*`, `**/${layer}/**`, `./${layer}/*`],
          message: `a lower layer must not import from src/${layer} (layers, lowest first: db ← engine ← providers/notify ← billing/observability ← http/web)`,
        })),
        { group: ['**/main.ts', '**/cli.ts'], message: 'only the entry points wire things together' },
      ],
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'bench/node_modules/',
      'bench/.build/',
      'dist/',
      'lib/',
      'coverage/',
      'test-artifacts/',
      '.billflow/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // The admin UI runs in the browser.
    files: ['src/web/app/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        history: 'readonly',
        location: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
        HTMLElement: 'readonly',
        HTMLDialogElement: 'readonly',
        HTMLInputElement: 'readonly',
        KeyboardEvent: 'readonly',
        MouseEvent: 'readonly',
        PopStateEvent: 'readonly',
        Response: 'readonly',
        RequestInit: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
  },
  ...Object.entries(layers).map(([layer, above]) => ({ files: [`src/${layer}/**/*.ts`], rules: forbid(above) })),
  {
    // Everything else in src (errors.ts, config.ts) sits below the layers.
    files: ['src/*.ts'],
    ignores: ['src/main.ts', 'src/cli.ts'],
    rules: forbid(['db', 'engine', 'providers', 'notify', 'billing', 'observability', 'http', 'web']),
  },
);
