#!/usr/bin/python3
"""Benchmark peer: what a physicist's numpy script does with DUNE cluster batches, done well.

For every batch: np.load (zipfile checks each member's CRC-32, inflating np.savez_compressed
members), `images` and `metadata` as arrays, the metadata decoded into per-cluster columns (seed
layout, 12 columns), and the per-cluster metrics arrowsmith computes, vectorised over the batch:
pixel_sum (float64), pixel_max, nonzero_pixels and the time/channel extent of the non-zero pixels
(-1 when empty). Results stay in memory; one JSON line goes to stdout:
  {"peer": "python-numpy", "clusters": N, "files": F, "bytes": input bytes, "seconds": S, "numpy": version}
`seconds` covers only the processing (first np.load to the last metric), not interpreter start or imports.

usage: /usr/bin/python3 bench/peer_clusters.py FILE_OR_DIR...
"""
import json
import os
import sys
import time

import numpy as np


def extent(any_axis):
    """First and last index holding a non-zero pixel per cluster, -1 for none."""
    has = any_axis.any(axis=1)
    first = np.where(has, any_axis.argmax(axis=1), -1)
    last = np.where(has, any_axis.shape[1] - 1 - any_axis[:, ::-1].argmax(axis=1), -1)
    return first, last


def batch_metrics(images, metadata):
    nz = images != 0
    out = {
        "pixel_sum": images.sum(axis=(1, 2), dtype=np.float64),
        "pixel_max": images.max(axis=(1, 2)) if images.size else np.zeros(len(images), np.float32),
        "nonzero_pixels": np.count_nonzero(nz, axis=(1, 2)),
    }
    out["time_first"], out["time_last"] = extent(nz.any(axis=2))
    out["channel_first"], out["channel_last"] = extent(nz.any(axis=1))
    m = metadata.astype(np.float32, copy=False)
    out.update({
        "is_marley": m[:, 0] != 0, "is_main_track": m[:, 1] != 0, "true_pos": m[:, 2:5].copy(), "true_dir": m[:, 5:8].copy(),
        "true_nu_energy": np.where(m[:, 8] == -1, np.nan, m[:, 8]), "true_particle_energy": m[:, 9].copy(),
        "plane": m[:, 10].astype(np.int8), "is_es": m[:, 11] == 1,
    })
    return out


def main(argv):
    files = []
    for a in argv:
        if os.path.isdir(a):
            files += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".npz"))
        else:
            files.append(a)
    total_bytes = sum(os.path.getsize(f) for f in files)
    results = []
    clusters = 0
    t0 = time.perf_counter()
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            images = z["images"]
            metadata = z["metadata"]
        results.append(batch_metrics(images, metadata))
        clusters += len(images)
    seconds = time.perf_counter() - t0
    print(json.dumps({"peer": "python-numpy", "clusters": clusters, "files": len(files), "bytes": total_bytes,
                      "seconds": seconds, "numpy": np.__version__}))


if __name__ == "__main__":
    main(sys.argv[1:])
