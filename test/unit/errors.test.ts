/**
 * One way to fail: the error classes and codes the library's paths throw (no privileges).
 * Every one is an Error with a stable `code`; vmplumb's own conditions are VmplumbErrors
 * (QmpError, NetworkSetupError, StateRecordError, QemuExitedError included); system failures
 * are SystemCallErrors (RaError included). The codes are the ones these paths threw before
 * the classes, so programs that switch on them keep working.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  ERROR_CODES,
  NetworkSetupError,
  Qemu,
  QemuExitedError,
  QmpClient,
  QmpError,
  RaError,
  StateRecordError,
  SystemCallError,
  VmplumbError,
} from '../../lib/index.js';
import { claimNetwork } from '../../lib/network/records.js';
import type { NetworkStatePort } from '../../lib/network/deps.js';
import { Steps } from '../../lib/network/steps.js';
import { resolveQemuBinary } from '../../lib/qemu/spec.js';
import { netnsIdentity } from '../../lib/netns.js';
import { readRecord } from '../../lib/state/record.js';
import { PassThrough } from 'node:stream';

const dir = mkdtempSync(join(tmpdir(), 'vmperr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('error classes and codes', () => {
  it('keeps the codes programs already check', () => {
    expect(ERROR_CODES).toMatchObject({
      INVALID_STATE: 'ERR_INVALID_STATE',
      QEMU_EXITED: 'ERR_QEMU_EXITED',
      QMP: 'ERR_QMP',
      TIMEOUT: 'ETIMEDOUT',
      NOT_FOUND: 'ENOENT',
      EXISTS: 'EEXIST',
      UNSUPPORTED: 'ENOTSUP',
      NO_SPACE: 'ENOSPC',
      BUSY: 'EBUSY',
      CONNECTION_RESET: 'ECONNRESET',
      VM_BUSY: 'ERR_VM_BUSY',
      VM_GONE: 'ERR_VM_GONE',
      NETWORK_STATE: 'ERR_NETWORK_STATE',
      NETWORK_INCOMPLETE: 'ERR_NETWORK_INCOMPLETE',
      NETWORK_SETUP: 'ERR_NETWORK_SETUP',
      STATE_RECORD: 'ERR_VMPLUMB_STATE',
    });
  });

  it('RaError is a SystemCallError naming its interface, with the fields and message it had', () => {
    const error = new RaError(osConstants.errno.ENETDOWN, 'sendmsg', 'br100');
    expect(error).toBeInstanceOf(RaError);
    expect(error).toBeInstanceOf(SystemCallError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'RaError', code: 'ENETDOWN', errno: -osConstants.errno.ENETDOWN, syscall: 'sendmsg', interface: 'br100' });
    expect(error.message).toBe('sendmsg ENETDOWN: network is down (br100)');
    const join = new RaError(osConstants.errno.EADDRINUSE, 'setsockopt', 'br7', 'IPV6_ADD_MEMBERSHIP ff02::2 ifindex 7');
    expect(join.message).toBe('setsockopt EADDRINUSE: address already in use (br7 IPV6_ADD_MEMBERSHIP ff02::2 ifindex 7)');
    // Namespace-wide failures (no interface): the original error's fields and text, as `cause`.
    const monitor = Object.assign(new Error('dump RTM_GETLINK: ENOBUFS: No buffer space available'), {
      code: 'ENOBUFS',
      errno: -osConstants.errno.ENOBUFS,
      syscall: 'recvmsg',
    });
    const wrapped = RaError.from(monitor);
    expect(wrapped).toBeInstanceOf(RaError);
    expect(wrapped).toMatchObject({ code: 'ENOBUFS', errno: -osConstants.errno.ENOBUFS, syscall: 'recvmsg', message: monitor.message, cause: monitor });
    expect(wrapped.interface).toBeUndefined();
    expect(RaError.from(wrapped)).toBe(wrapped);
    expect(RaError.from(new Error('odd'))).toMatchObject({ code: 'EIO', message: 'odd' });
  });

  it('QmpError is a VmplumbError: ERR_QMP for an error reply, ECONNRESET once QMP is gone', async () => {
    const stream = new PassThrough();
    const client = new QmpClient(stream);
    client.close();
    const closed = await client.execute('query-status').catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(QmpError);
    expect(closed).toBeInstanceOf(VmplumbError);
    expect(closed).toMatchObject({ code: 'ECONNRESET', command: 'query-status' });
    expect(new QmpError('device_add', 'GenericError', 'bad')).toMatchObject({ code: 'ERR_QMP', class: 'GenericError', message: 'QMP device_add: bad' });
  });

  it("NetworkSetupError is a VmplumbError with its step's code, or ERR_NETWORK_SETUP", async () => {
    const steps = new Steps('VxlanNetwork 7');
    const kernel = Object.assign(new Error('createBridge br7: EEXIST: File exists'), { code: 'EEXIST' });
    const failed = await steps.run('create bridge br7', () => Promise.reject(kernel)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(NetworkSetupError);
    expect(failed).toBeInstanceOf(VmplumbError);
    expect(failed).toMatchObject({ code: 'EEXIST', step: 'create bridge br7', cause: kernel });
    const plain = await new Steps('VxlanNetwork 8').run('odd step', () => Promise.reject(new Error('odd'))).catch((e: unknown) => e);
    expect(plain).toMatchObject({ name: 'NetworkSetupError', code: 'ERR_NETWORK_SETUP' });
  });

  it('StateRecordError is a VmplumbError: ENOENT for a missing record, ERR_VMPLUMB_STATE for a bad one', async () => {
    const missing = await readRecord(join(dir, 'none.json'), 'net').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StateRecordError);
    expect(missing).toBeInstanceOf(VmplumbError);
    expect(missing).toMatchObject({ code: 'ENOENT', path: join(dir, 'none.json') });
    writeFileSync(join(dir, 'bad.json'), 'not json');
    expect(await readRecord(join(dir, 'bad.json'), 'net').catch((e: unknown) => e)).toMatchObject({ code: 'ERR_VMPLUMB_STATE' });
  });

  it('QemuExitedError is a VmplumbError carrying the exit and what qemu said', () => {
    const error = new QemuExitedError('qemu exited with code 1 before QMP was ready: bad', { code: 1, signal: null, reason: 'exited' }, 'bad');
    expect(error).toBeInstanceOf(VmplumbError);
    expect(error).toMatchObject({ name: 'QemuExitedError', code: 'ERR_QEMU_EXITED', stderr: 'bad', exit: { code: 1 } });
  });

  it('the qemu, state and network paths throw the classes, with the codes they had', async () => {
    const binary = (() => {
      try {
        return resolveQemuBinary('no-such-qemu-binary');
      } catch (e) {
        return e;
      }
    })();
    expect(binary).toBeInstanceOf(SystemCallError);
    expect(binary).toMatchObject({ code: 'ENOENT', errno: -osConstants.errno.ENOENT, syscall: 'spawn', path: 'no-such-qemu-binary' });

    const attach = await Qemu.attach('nosuchvm', { runDir: dir }).catch((e: unknown) => e);
    expect(attach).toBeInstanceOf(VmplumbError);
    expect(attach).toMatchObject({ code: 'ENOENT', message: expect.stringContaining('VM nosuchvm: no such VM') });

    const busy: Partial<NetworkStatePort> = {
      resolveRunDir: () => dir,
      files: () => ({ dir, record: join(dir, '7.json'), lock: join(dir, '7.lock'), raLock: join(dir, '7.ra.lock') }) as never,
      lock: () => undefined,
    };
    const claimed = await claimNetwork(busy as NetworkStatePort, dir, 'k', 7).catch((e: unknown) => e);
    expect(claimed).toBeInstanceOf(VmplumbError);
    expect(claimed).toMatchObject({ code: 'EBUSY', message: expect.stringMatching(/^VxlanNetwork 7: another process/) });

    const ns = (() => {
      try {
        return netnsIdentity(join(dir, 'no-such-netns'));
      } catch (e) {
        return e;
      }
    })();
    expect(ns).toBeInstanceOf(SystemCallError);
    expect(ns).toMatchObject({ code: 'ENOENT', syscall: 'stat', message: expect.stringMatching(/^cannot open network namespace .*no-such-netns: ENOENT/) });
  });
});
