/**
 * Validation of address requests and their codec params (native/rtnl_addr.cc), as
 * `ip address add|del ADDRESS/LEN dev LINK [scope S] [nodad] [noprefixroute] [valid_lft …]`
 * (ip-address(8)).
 */
import { checkBoolean, checkInteger, checkObject, checkPrefixed, invalidValue, isOwnKey, bare, hasControlCharacter, type Prefixed } from '../validate.js';
import { AF, IFA_F, SCOPES } from './constants.js';
import type { AddAddressOptions } from './types.js';

/** Codec params of one address. */
export interface AddressParams {
  family: number;
  prefixLength: number;
  index: number;
  flags?: number;
  scope?: number;
  address?: string;
  local?: string;
  label?: string;
  cacheinfo?: { preferred: number; valid: number };
}

/** Forever, in IFA_CACHEINFO. */
const INFINITY = 0xffffffff;

/** Parses 'ip/len' (the length is required, as in `ip address add`). */
export function checkAddress(field: string, value: unknown): Prefixed {
  return checkPrefixed(field, value, true);
}

/** Params of an RTM_NEWADDR/RTM_DELADDR for `address` on link `index`. */
export function addressParams(index: number, address: Prefixed): AddressParams {
  // `ip` sends the address as IFA_LOCAL, and IFA_ADDRESS too (the peer, equal without one).
  return bare({
    family: address.family === 6 ? AF.INET6 : AF.INET,
    prefixLength: address.prefixLength,
    index,
    local: address.address,
    address: address.address,
  });
}

/** Validates AddAddressOptions and applies them to params. */
export function applyAddOptions(params: AddressParams, input: unknown): { replace: boolean } {
  if (input === undefined) return { replace: false };
  const options = checkObject('options', input) as AddAddressOptions;
  let flags = 0;
  if (options.nodad !== undefined && checkBoolean('nodad', options.nodad)) flags |= IFA_F.NODAD;
  if (options.noprefixroute !== undefined && checkBoolean('noprefixroute', options.noprefixroute)) flags |= IFA_F.NOPREFIXROUTE;
  if (flags) params.flags = flags;
  if (options.scope !== undefined) {
    // Own keys only: 'toString' or '__proto__' is no scope (it would reach the codec as 0, global).
    const scope = isOwnKey(SCOPES, options.scope) ? SCOPES[options.scope] : undefined;
    if (scope === undefined || scope === SCOPES.nowhere) throw invalidValue('scope', "'universe', 'site', 'link' or 'host'", options.scope);
    params.scope = scope;
  }
  if (options.label !== undefined) {
    if (params.family !== AF.INET) throw invalidValue('label', 'set only for IPv4 addresses', options.label);
    // IFA_LABEL is IFNAMSIZ long; aliases like "eth0:1" contain a colon, unlike link names.
    if (typeof options.label !== 'string' || options.label.length === 0 || Buffer.byteLength(options.label) > 15 || hasControlCharacter(options.label)) {
      throw invalidValue('label', 'a label of 1 to 15 bytes without NUL or control characters', options.label);
    }
    params.label = options.label;
  }
  if (options.validLifetime !== undefined || options.preferredLifetime !== undefined) {
    const valid = options.validLifetime === undefined ? INFINITY : checkInteger('validLifetime', options.validLifetime, 1, INFINITY);
    const preferred = options.preferredLifetime === undefined ? valid : checkInteger('preferredLifetime', options.preferredLifetime, 0, INFINITY);
    if (preferred > valid) throw invalidValue('preferredLifetime', `at most validLifetime (${valid})`, preferred);
    params.cacheinfo = { preferred, valid };
  }
  return { replace: options.replace !== undefined && checkBoolean('replace', options.replace) };
}
