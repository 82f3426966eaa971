/**
 * Two "hosts" for integration tests: throwaway namespaces joined by a veth pair named eth0 on
 * each side (the underlay a VXLAN runs over), each with its own address on it.
 */
import { joinWithVeth, TestNetns } from './netns.js';

/**
 * Makes two namespaces (names starting with `prefix`) joined by eth0 ↔ eth0, with `address1` /
 * `address2` (`fd00:4789::1/64`) on their eth0, `nodad` so they are usable at once. The caller
 * removes both with `cleanup()`; if setting up fails halfway, what was made is removed here.
 */
export function twoHostsWithVeth(prefix: string, address1: string, address2: string): [TestNetns, TestNetns] {
  const h1 = new TestNetns(prefix);
  let h2: TestNetns | undefined;
  try {
    h2 = new TestNetns(prefix);
    joinWithVeth(h1, 'eth0', h2, 'eth0');
    h1.ip('addr', 'add', address1, 'dev', 'eth0', 'nodad');
    h2.ip('addr', 'add', address2, 'dev', 'eth0', 'nodad');
    return [h1, h2];
  } catch (error) {
    h2?.cleanup();
    h1.cleanup();
    throw error;
  }
}
