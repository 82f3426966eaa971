/**
 * Versioned JSON records written atomically: the whole file appears at once or not at all
 * (write a temp file in the same folder, fsync, rename(2) over the target, fsync the folder),
 * so a process killed mid-write leaves the previous record or none, never half of one. A
 * leftover temp file (`.<name>.<pid>.tmp`) is ignored by readers and removed by cleanup.
 *
 * Every record carries `format: 'vmplumb/<kind>'` and `version`; a reader refuses a record
 * of another kind or a newer version rather than guess at it.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { ERROR_CODES, VmplumbError } from '../errors.js';

/** The version of every record this code writes. */
export const RECORD_VERSION = 1;

/** A record that is missing, unreadable, of another kind or version. */
export class StateRecordError extends VmplumbError<typeof ERROR_CODES.NOT_FOUND | typeof ERROR_CODES.STATE_RECORD> {
  /** The file. */
  readonly path: string;
  /** 'ENOENT' when the file is missing, 'ERR_VMPLUMB_STATE' when it is not a usable record. */
  constructor(path: string, message: string, code: typeof ERROR_CODES.NOT_FOUND | typeof ERROR_CODES.STATE_RECORD = ERROR_CODES.STATE_RECORD) {
    super(code, `${path}: ${message}`);
    this.name = 'StateRecordError';
    this.path = path;
  }
}

/** Whether a folder entry is a temp file of {@link writeRecord}. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** The file content of record `kind` with `body`. */
export function recordText(kind: string, body: object): string {
  return `${JSON.stringify({ format: `vmplumb/${kind}`, version: RECORD_VERSION, ...body }, null, 2)}\n`;
}

/** Writes `body` as record `kind` at `path`, atomically (temp file + fsync + rename). */
export function writeRecord(path: string, kind: string, body: object): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const text = recordText(kind, body);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  // The rename itself is durable only once the folder is (matters on disks, not on tmpfs).
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Reads record `kind` at `path`; throws StateRecordError (code 'ENOENT' when missing). */
export async function readRecord<T extends object>(path: string, kind: string): Promise<T & { version: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw unreadableRecord(path, (error as NodeJS.ErrnoException).code ?? 'EIO');
  }
  return parseRecord<T>(path, kind, text);
}

/** The StateRecordError of a record that could not be read (`code`: the errno's name; 'ENOENT': missing). */
export function unreadableRecord(path: string, code: string): StateRecordError {
  return new StateRecordError(path, `cannot read the record (${code})`, code === 'ENOENT' ? ERROR_CODES.NOT_FOUND : ERROR_CODES.STATE_RECORD);
}

/** Record `kind` from the text of the file at `path`; throws StateRecordError when it is not one. */
export function parseRecord<T extends object>(path: string, kind: string, text: string): T & { version: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StateRecordError(path, 'not JSON (written by something else than vmplumb?)');
  }
  const r = parsed as { format?: unknown; version?: unknown };
  if (typeof parsed !== 'object' || parsed === null || r.format !== `vmplumb/${kind}`) {
    throw new StateRecordError(path, `not a vmplumb/${kind} record (format ${JSON.stringify(r?.format)})`);
  }
  if (typeof r.version !== 'number' || r.version > RECORD_VERSION) {
    throw new StateRecordError(path, `record version ${String(r.version)} is newer than this vmplumb understands (${RECORD_VERSION})`);
  }
  return parsed as T & { version: number };
}
