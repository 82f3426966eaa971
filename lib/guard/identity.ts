/**
 * Who a guard is, so that any process can find it and tell it apart: the kernel keeps the
 * identity in the comment of the guard's base chain (`nft list` shows it), and a VM's folder
 * keeps the same as a {@link GuardRecord} (spec.json), a cache checked against the kernel
 * before anything is removed.
 *
 *     chain vm1n100 { comment "vmplumb-guard id=5f0c2a91d3e4 mac=02:00:00:00:00:01 vm=vm1n100" … }
 *
 * `id` is new for every set-up: a port name comes back (the same VM started again makes a tap
 * of the same name), and a process cleaning up after the old VM must not remove the new one's
 * guard.
 */
import { randomBytes } from 'node:crypto';

import { resolveNetns } from '../netns.js';
import { checkIfname, checkObject, checkString, checkUnicastMac, invalidValue } from '../validate.js';

/** A guard as another process needs it to manage it (recorded in the VM's folder). */
export interface GuardRecord {
  /** The port (tap) the guard is on. */
  port: string;
  /** The VM's MAC the guard allows. */
  mac: string;
  /** Unique per set-up: the kernel's base chain carries the same (see {@link listGuards}). */
  id: string;
  /** The namespace, a name under /run/netns or a path; absent for the current one. */
  netns?: string;
  /** The VM the port belongs to, when securePort was told (`vm`). */
  vm?: string;
}

/** What the base chain's comment says. */
export interface GuardIdentity {
  id: string;
  mac: string;
  vm?: string;
}

const TAG = 'vmplumb-guard';
const ID_RE = /^[0-9a-f]{12}$/u;
/** VM names as the run directory allows them (lib/qemu). */
export const VM_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/u;

/** A fresh guard id: 48 random bits. */
export function newGuardId(): string {
  return randomBytes(6).toString('hex');
}

/** The base chain's comment for `identity`. */
export function identityComment(identity: GuardIdentity): string {
  return `${TAG} id=${identity.id} mac=${identity.mac}${identity.vm === undefined ? '' : ` vm=${identity.vm}`}`;
}

/** The identity in a base chain's comment, or undefined when it is not one of ours. */
export function parseIdentity(comment: string | undefined): GuardIdentity | undefined {
  const words = comment?.split(' ');
  if (words?.[0] !== TAG) return undefined;
  const fields = new Map(words.slice(1).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  const id = fields.get('id');
  const mac = fields.get('mac');
  if (id === undefined || !ID_RE.test(id) || mac === undefined) return undefined;
  const vm = fields.get('vm');
  return vm === undefined ? { id, mac } : { id, mac, vm };
}

/** Checks a record read from disk (a cache: it may be damaged or from another version). */
export function checkGuardRecord(field: string, value: unknown): GuardRecord {
  const o = checkObject(field, value);
  const id = checkString(`${field}.id`, o.id);
  if (!ID_RE.test(id)) throw invalidValue(`${field}.id`, 'a guard id (12 hex digits)', o.id);
  const record: GuardRecord = { port: checkIfname(`${field}.port`, o.port), mac: checkUnicastMac(`${field}.mac`, o.mac), id };
  if (o.netns !== undefined) {
    const netns = resolveNetns(`${field}.netns`, o.netns);
    if (typeof netns !== 'string') throw invalidValue(`${field}.netns`, 'a namespace name or path', o.netns);
    record.netns = netns;
  }
  if (o.vm !== undefined) {
    const vm = checkString(`${field}.vm`, o.vm);
    if (!VM_NAME_RE.test(vm)) throw invalidValue(`${field}.vm`, 'a VM name', o.vm);
    record.vm = vm;
  }
  return record;
}
