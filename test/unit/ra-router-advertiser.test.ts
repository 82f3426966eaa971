/** RouterAdvertiser's contract without privileges: validation at construction, state rules, stats. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRadvdConf, RouterAdvertiser } from '../../lib/index.js';

const br100 = { name: 'br100', minInterval: 3, maxInterval: 5, defaultLifetime: 3600, prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }] };

describe('RouterAdvertiser (no privileges)', () => {
  it('accepts what parseRadvdConf returns for the reference radvd.conf', () => {
    const options = parseRadvdConf(readFileSync(new URL('../fixtures/ra/radvd.conf', import.meta.url), 'utf8'));
    const ra = new RouterAdvertiser(options);
    expect(ra.stats()).toEqual([
      {
        name: 'br100',
        index: undefined,
        state: 'waiting',
        advertisementsSent: 0,
        multicastAdvertisementsSent: 0,
        unicastAdvertisementsSent: 0,
        finalAdvertisementsSent: 0,
        solicitationsReceived: 0,
        solicitationsDropped: 0,
        sendErrors: 0,
      },
    ]);
  });

  it('refuses bad configuration at construction, naming the field', () => {
    expect(() => new RouterAdvertiser({ interfaces: [{ ...br100, prefixes: [{ prefix: '2a0a:e5c1:111::/48' }] }] })).toThrow(
      /"options\.interfaces\[0\]\.prefixes\[0\]\.prefix" to be a \/64 prefix while autonomous is true/,
    );
    expect(() => new RouterAdvertiser({ interfaces: [{ ...br100, minInterval: 4 }] })).toThrow(
      /"options\.interfaces\[0\]\.minInterval" to be a number from 3 to 3\.75, got 4/,
    );
    expect(() => new RouterAdvertiser({ interfaces: [br100, br100] })).toThrow(/"options\.interfaces\[1\]\.name"/);
    expect(() => new RouterAdvertiser({ netns: '', interfaces: [br100] })).toThrow(/"options\.netns"/);
    expect(() => new RouterAdvertiser({ interfaces: 'br100' } as never)).toThrow(/"options\.interfaces" to be an array/);
    expect(() => new RouterAdvertiser(undefined as never)).toThrow(/"options" to be an object/);
  });

  it('validates addInterface and update before changing anything', async () => {
    const ra = new RouterAdvertiser({ interfaces: [br100] });
    await expect(ra.addInterface({ name: 'br200', dnssl: [{ domains: ['not a domain'] }] })).rejects.toThrow(/"config\.dnssl\[0\]\.domains\[0\]"/);
    await expect(ra.addInterface(br100)).rejects.toThrow(/"config\.name" to be an interface this advertiser does not serve yet, got "br100"/);
    await expect(ra.update({ interfaces: [{ ...br100, rdnss: [{ servers: ['10.0.0.1'] }] }] })).rejects.toThrow(
      /"options\.interfaces\[0\]\.rdnss\[0\]\.servers\[0\]" to be an IPv6 address/,
    );
    expect(ra.stats().map((s) => s.name)).toEqual(['br100']);
    await ra.addInterface({ name: 'br200' });
    expect(ra.stats().map((s) => s.name)).toEqual(['br100', 'br200']);
    await ra.removeInterface('br100');
    await ra.removeInterface('br999'); // unknown: no-op
    expect(ra.stats().map((s) => s.name)).toEqual(['br200']);
  });

  it('stop() is idempotent without start(); start() after stop() is refused', async () => {
    const ra = new RouterAdvertiser({ interfaces: [br100] });
    const a = ra.stop();
    expect(ra.stop()).toBe(a);
    await a;
    await expect(ra.start()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ra.addInterface({ name: 'br300' })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(ra.stats()[0]!.state).toBe('stopped');
    await ra[Symbol.asyncDispose]();
  });

  it('start() names a namespace that does not exist, and can be retried', async () => {
    const ra = new RouterAdvertiser({ netns: 'vmpra-no-such-namespace', interfaces: [br100] });
    await expect(ra.start()).rejects.toThrow(/cannot open network namespace \/run\/netns\/vmpra-no-such-namespace: ENOENT/);
    await expect(ra.start()).rejects.toMatchObject({ code: 'ENOENT' });
    await ra.stop();
  });
});
