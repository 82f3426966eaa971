import { describe, expect, it } from 'vitest';
import { vxlanGroupForId } from '../../lib/netlink/index.js';

describe("vxlanGroupForId (the reference scripts' group: decimal digits read as hex)", () => {
  it.each([
    [100, 'ff05::100'],
    [12345, 'ff05::1:2345'],
    [1, 'ff05::1'],
    [9999, 'ff05::9999'],
    [10000, 'ff05::1:0'],
    [20001, 'ff05::2:1'],
    [16777215, 'ff05::1677:7215'],
    [0, 'ff05::'],
  ])('%i → %s', (id, group) => {
    expect(vxlanGroupForId(id)).toBe(group);
  });

  it('refuses ids outside the VNI range, naming the field and value', () => {
    expect(() => vxlanGroupForId(16777216)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: 'Expected "id" to be an integer from 0 to 16777215, got 16777216' }),
    );
    expect(() => vxlanGroupForId('100' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
