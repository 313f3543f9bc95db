#!/usr/bin/env node
// Runs the compiled build (lib/) when it holds the current sources; otherwise the TypeScript
// sources through tsx's loader, so a checkout works without a build step. The build is what a
// service should run: the loader costs start-up time and tens of MB of memory.
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { buildIsCurrent, buildPaths } from './compiled.js';

// The service on the embedded database keeps its young generation at the size start-up leaves
// it; set here, before anything else allocates, that is 2 MB rather than 16-32 MB of resident
// memory. src/v8-tuning.ts sets the service's other V8 flags and says why.
const command = process.argv[2];
if ((command === 'start' || command === 'worker') && !process.env.DATABASE_URL) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

if (buildIsCurrent()) {
  await import(pathToFileURL(buildPaths().entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
