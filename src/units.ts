// One unit convention for every size and rate arrowsmith prints: binary units, named as such
// (KiB = 1024 bytes, MiB = 1024² bytes, GiB = 1024³ bytes; rates in MiB/s). Binary because the
// cluster statistics reproduce load_batched_cluster_data.py, whose "MB" is bytes/1024/1024, and
// `ls -lh`/`du -h` count the same way. JSON output gives plain byte counts.

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** A size for people: "812 bytes", "4.3 KiB", "127.4 MiB", "4.02 GiB" (never "0.0 MB"). */
export function formatBytes(n: number): string {
  if (n < KiB) return `${n} byte${n === 1 ? "" : "s"}`;
  if (n < MiB) return `${(n / KiB).toFixed(1)} KiB`;
  if (n < GiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / GiB).toFixed(2)} GiB`;
}

/** A rate in MiB/s, to whole MiB/s (one decimal below 10). */
export function formatRate(bytesPerSecond: number): string {
  const r = bytesPerSecond / MiB;
  return `${r < 10 ? r.toFixed(1) : r.toFixed(0)} MiB/s`;
}
