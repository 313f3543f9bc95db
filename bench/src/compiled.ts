import { fileURLToPath } from 'node:url';

/** The compiled JavaScript of a file of bench/src (tsconfig.build.json writes it to bench/.build). */
export function compiled(file: string): string {
  return fileURLToPath(new URL(`../.build/bench/src/${file.replace(/\.ts$/, '.js')}`, import.meta.url));
}
