/** Maximum size of the shared memory of the threads build, in 64 KB pages (2 GB). Read by the
 * build (declared in the module) and by the loader (the memory it creates must match). */
export const MAX_SHARED_PAGES = 32768;
