/**
 * IPv6 router advertisements (RFC 4861 §6.2, RFC 4191, RFC 8106, RFC 8781): RouterAdvertiser,
 * radvd.conf import, and the packet codec for tools and tests.
 */
export { RouterAdvertiser } from './router-advertiser.js';
export type { RouterAdvertiserEvents } from './router-advertiser.js';
export { parseRadvdConf, RadvdConfError } from './radvd-conf.js';
export { RaError } from './ra-error.js';
export type { ParseRadvdConfOptions, RadvdConfWarning } from './radvd-conf.js';
export { formatMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
export { buildAdvertisements, decodeAdvertisement } from './codec.js';
export type { DecodedAdvertisement } from './codec.js';
export type { DecodedOption } from './options.js';
export type * from './types.js';
