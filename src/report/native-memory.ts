// resvg-js is linked with mimalloc, which by default gives freed memory back to the OS 10 ms after
// it is freed. Every PNG allocates a few canvas-sized buffers (1186 × 682 × 4 bytes each), so with
// the default each figure faulted ~2,000 fresh pages in again: measured with perf, page faults and
// zeroing were two thirds of resvg's time (132 → 37 ms of CPU per figure without the purge).
// mimalloc reads its options once, when the native library is loaded, from the C environment: this
// module is imported before @resvg/resvg-js. It only helps when the main thread runs it first
// (a worker thread's process.env is a copy that does not reach the C environment), which the
// plot and report paths do. A value the user set is kept.
process.env.MIMALLOC_PURGE_DELAY ??= "-1";
