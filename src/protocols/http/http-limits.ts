/**
 * Limits of spear's HTTP/1.1 client, in one place so docs and errors agree.
 */

/**
 * The largest response head (status line, headers and the empty line, or
 * a chunked body's trailers) spear reads, however the head is split across
 * reads. Larger heads fail with `read:HPE_HEADER_OVERFLOW`. Node's own
 * client stops at 16 KiB by default; 64 KiB leaves room for big cookies.
 */
export const headLimitBytes = 64 * 1024;

/** The first wait after a connect that failed, doubled per failure up to `connectBackoffMaxMs`. */
export const connectBackoffFirstMs = 10;

/** The longest wait between connect attempts of one connection to a target that keeps refusing. */
export const connectBackoffMaxMs = 1000;
