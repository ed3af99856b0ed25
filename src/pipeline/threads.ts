// How many input bytes pay for one more worker thread (read by convert and by `--threads --help`,
// which is why it lives in a module of its own that imports nothing).

/** Input bytes that make starting one more worker worth it (a worker takes ~0.3 s to be ready). */
export const BYTES_PER_THREAD = 256 << 20;
