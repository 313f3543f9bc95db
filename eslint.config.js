import { readdirSync } from 'node:fs';
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

const forbid = (above, more = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...above.map((layer) => ({
          group: [`**/${layer}/*`, `**/${layer}/**`, `./${layer}/*`],
          message: `a lower layer must not import from src/${layer} (layers, lowest first: db ← engine ← providers/notify ← billing/observability ← http/web)`,
        })),
        { group: ['**/main.ts', '**/cli.ts'], message: 'only the entry points wire things together' },
        ...more,
      ],
    },
  ],
});

// One folder per workflow type under src/billing/workflows: a folder may import the shared
// module (../shared) but never another type's folder nor the registry that lists them all.
const WORKFLOWS_DIR = 'src/billing/workflows';
const workflowFolders = readdirSync(WORKFLOWS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
  .map((entry) => entry.name);
const notWorkflowFolders = (folders) => [
  {
    group: [...folders.flatMap((f) => [`../${f}/*`, `../${f}/**`]), '../registry.ts', '../index.ts', '../trigger.ts'],
    message: 'a workflow folder imports only its own files and ../shared (see docs/adding-a-workflow.md)',
  },
];
const workflowFolderRules = [
  ...workflowFolders.map((folder) => ({
    files: [`${WORKFLOWS_DIR}/${folder}/**/*.ts`],
    rules: forbid(layers.billing, notWorkflowFolders(workflowFolders.filter((f) => f !== folder))),
  })),
  { files: [`${WORKFLOWS_DIR}/shared/**/*.ts`], rules: forbid(layers.billing, notWorkflowFolders(workflowFolders)) },
];

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
  {
    // One time format in the UI: every page formats dates through format.ts (and Time.tsx).
    files: ['src/web/app/src/**/*.{ts,tsx}'],
    ignores: ['src/web/app/src/format.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString', 'toUTCString'].map((property) => ({
          property,
          message: 'Format times with dateTime() from format.ts or the Time component.',
        })),
        { object: 'Intl', property: 'DateTimeFormat', message: 'Format times with dateTime() from format.ts.' },
        { object: 'Intl', property: 'RelativeTimeFormat', message: 'Use the Time component (absolute time first).' },
      ],
    },
  },
  ...Object.entries(layers).map(([layer, above]) => ({ files: [`src/${layer}/**/*.ts`], rules: forbid(above) })),
  ...workflowFolderRules,
  {
    // Everything else in src (errors.ts, config.ts) sits below the layers.
    files: ['src/*.ts'],
    ignores: ['src/main.ts', 'src/cli.ts'],
    rules: forbid(['db', 'engine', 'providers', 'notify', 'billing', 'observability', 'http', 'web']),
  },
);
