/** Runs ensureGuest({ cacheDir: argv[2] }) in its own process and prints the result as JSON (for the concurrency test). */
import { ensureGuest } from '../../../testing/guest/index.js';

const guest = await ensureGuest({ cacheDir: process.argv[2] as string });
process.stdout.write(`${JSON.stringify(guest)}\n`);
