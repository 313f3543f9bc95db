import fs from 'node:fs';
import path from 'node:path';
import { NodeFS } from '@electric-sql/pglite/nodefs';

// WASI's errno for an I/O error. PostgreSQL treats a failed fsync as fatal rather than go on
// with data it cannot know is on disk.
const WASI_EIO = 29;

/** A file opened by Emscripten's NODEFS: `nfd` is the real file descriptor. */
interface NodeFsStream {
  nfd?: number;
}

interface NodeFsStreamOps {
  fsync?: (stream: NodeFsStream) => number;
}

/**
 * PGlite's Node file system with an fsync that reaches the disk. Emscripten routes PostgreSQL's
 * fsync() to the file system's `fsync` stream operation, which NODEFS does not have, so it
 * returned success without flushing anything. It is carried out as fdatasync, PostgreSQL's own
 * choice for its log on Linux: the data and the file's size, not its times.
 */
export class DurableNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS['init']>): ReturnType<NodeFS['init']> {
    const result = await super.init(...args);
    const { emscriptenOpts } = result;
    // Before PostgreSQL starts, so that recovery and the first checkpoint are flushed as well.
    emscriptenOpts.preRun = [
      ...(emscriptenOpts.preRun ?? []),
      (mod) => {
        (mod.NODEFS as unknown as { stream_ops: NodeFsStreamOps }).stream_ops.fsync = fsyncStream;
      },
    ];
    return result;
  }
}

function fsyncStream(stream: NodeFsStream): number {
  if (stream.nfd === undefined) return 0;
  try {
    fs.fdatasyncSync(stream.nfd);
    return 0;
  } catch {
    return WASI_EIO;
  }
}

/** Flushes every file and folder of a new data folder, as initdb does before it reports success. */
export function fsyncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(entryPath);
    else if (entry.isFile()) fsyncPath(entryPath);
  }
  fsyncPath(dir);
}

function fsyncPath(target: string): void {
  const fd = fs.openSync(target, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
