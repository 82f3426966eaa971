/**
 * The tiny test guest: a Debian kernel and a busybox initramfs that does SLAAC and reports its
 * addresses on the serial console. Used by the tests and by `vmplumb demo`.
 */
export { ensureGuest, guestCacheDir, guestRecipeKey, GUEST_APPEND, GUEST_PACKAGES } from './build.js';
export type { EnsureGuestOptions, Guest } from './build.js';
export { guestBootOptions } from './boot.js';
export type { GuestBootOptions } from './boot.js';
export { parseGuestConsole, parseGuestConsoleLine, waitForGuestConsole } from './console.js';
export type { GuestConsoleLine } from './console.js';
export { CONSOLE_PREFIX, GUEST_MODULES, INIT_SCRIPT } from './init.js';
