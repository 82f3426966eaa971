/** RFC 4861 §6.1.1 validation of router solicitations, as a table. */
import { describe, expect, it } from 'vitest';
import { validateRouterSolicitation } from '../../lib/ra/rs.js';

const SLLA = [1, 1, 0x02, 0, 0, 0, 0, 0x42];
const rs = (...tail: number[]) => Uint8Array.from([133, 0, 0xab, 0xcd, 0, 0, 0, 0, ...tail]);

describe('validateRouterSolicitation', () => {
  const table: Array<[string, Uint8Array, number, boolean, boolean, string | undefined]> = [
    // name, message, hop limit, source is ::, truncated, expected drop reason (undefined = valid)
    ['minimal RS', rs(), 255, false, false, undefined],
    ['RS with a source link-layer option', rs(...SLLA), 255, false, false, undefined],
    ['RS from :: without options', rs(), 255, true, false, undefined],
    ['unknown options are skipped', rs(200, 2, ...Array(14).fill(0), ...SLLA), 255, false, false, undefined],
    ['reserved field not zero is ignored', Uint8Array.from([133, 0, 0, 0, 1, 2, 3, 4]), 255, false, false, undefined],
    ['hop limit 254 (forwarded)', rs(), 254, false, false, 'hop-limit'],
    ['hop limit 1', rs(), 1, false, false, 'hop-limit'],
    ['hop limit unknown', rs(), -1, false, false, 'hop-limit'],
    ['code 1', Uint8Array.from([133, 1, 0, 0, 0, 0, 0, 0]), 255, false, false, 'code'],
    ['shorter than 8 bytes', Uint8Array.from([133, 0, 0, 0, 0, 0, 0]), 255, false, false, 'length'],
    ['empty', new Uint8Array(0), 255, false, false, 'length'],
    ['not an RS', Uint8Array.from([134, 0, 0, 0, 0, 0, 0, 0]), 255, false, false, 'type'],
    ['option length 0', rs(1, 0, 0, 0, 0, 0, 0, 0), 255, false, false, 'option-length'],
    ['option length 0 after a good one', rs(...SLLA, 5, 0, 0, 0, 0, 0, 0, 0), 255, false, false, 'option-length'],
    ['option longer than the message', rs(1, 2, 0, 0, 0, 0, 0, 0), 255, false, false, 'option-overrun'],
    ['a lone option byte', rs(1), 255, false, false, 'option-overrun'],
    ['source link-layer option from ::', rs(...SLLA), 255, true, false, 'source-link-layer-from-unspecified'],
    ['truncated by the receive buffer', rs(), 255, false, true, 'truncated'],
  ];
  it.each(table)('%s', (_name, message, hopLimit, unspecified, truncated, reason) => {
    const result = validateRouterSolicitation(message, hopLimit, unspecified, truncated);
    if (reason === undefined) expect(result.valid).toBe(true);
    else expect(result).toEqual({ valid: false, reason });
  });

  it('reports the source link-layer address', () => {
    expect(validateRouterSolicitation(rs(...SLLA), 255, false)).toEqual({ valid: true, sourceLinkLayerAddress: '02:00:00:00:00:42' });
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 20000; i++) {
      const m = Uint8Array.from({ length: rnd() % 64 }, rnd);
      if (m.length > 0 && i % 2 === 0) m[0] = 133;
      expect(() => validateRouterSolicitation(m, i % 3 === 0 ? 255 : rnd(), i % 5 === 0)).not.toThrow();
    }
  });
});
