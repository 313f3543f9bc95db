#!/usr/bin/env node
// Runs the compiled build (lib/) when it holds the current sources; otherwise the TypeScript
// sources through tsx's loader, so a checkout works without a build step. The build is what a
// service should run: the loader costs start-up time and tens of MB of memory.
import { pathToFileURL } from 'node:url';
import { buildIsCurrent, buildPaths } from './compiled.js';

if (buildIsCurrent()) {
  await import(pathToFileURL(buildPaths().entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
