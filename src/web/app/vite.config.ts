// The admin UI build: sources in src/web/app, output in dist/web, served at `/` by src/web/serve.ts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
  },
  // `vite` in this folder during development talks to a Billflow server on port 3000.
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
