/**
 * The reference setup (docs/ARCHITECTURE.md, "The reference setup") in the tests: the router
 * advertisements of its radvd.conf (test/fixtures/ra/radvd.conf). Its shell commands, which a
 * host that does not run vmplumb uses unchanged, are the demo's `referenceScript`
 * (testing/demo/hosts.ts).
 */
import type { RaInterfaceConfig } from '../../lib/ra/index.js';

/**
 * The interface of the reference radvd.conf (test/fixtures/ra/radvd.conf, which
 * ra-radvd-conf.test.ts checks this against) as a RouterAdvertiser interface, named `name`.
 */
export function referenceRaInterface(name = 'br100'): RaInterfaceConfig {
  return {
    name,
    minInterval: 3,
    maxInterval: 5,
    defaultLifetime: 3600,
    prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
    rdnss: [{ servers: ['2a0a:e5c0::3', '2a0a:e5c0::4'], lifetime: 6000 }],
    dnssl: [{ domains: ['place7.ungleich.ch'], lifetime: 6000 }],
  };
}
