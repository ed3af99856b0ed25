#!/usr/bin/python3
"""Benchmark peer: what a physicist's Python script does with a SCONE heatmap shard, done well.

Streams a TFRecord file record by record (uncompressed, or one GZIP/ZLIB stream, detected from the
first bytes), checks both masked CRC32Cs with the `crc32c` package, parses each record as a
tf.train.Example with Google's protobuf runtime, decodes `image_raw` (float64 LE, (32, 180, 2))
with numpy, keeps planar float32 `flux` / `flux_err` copies, scone_tools' 40 summary columns
(extract_tfrecord_info.py's arithmetic on the float64 values: sums, extremes, mean, median and std
of the flux, argmax peak, light-curve and peak-spectrum statistics, half-maximum times, band
fluxes, S/N statistics, coverage counts) and the count of non-finite values, as the converter does.
The metrics are computed vectorised over batches of events (--batch), as a careful numpy user
would, rather than in the tool's per-event loop (which would be slower still).

Per-event results stay in memory (lists); with --out they are written at the end to one
uncompressed .npz and fsynced (the converter writes and fsyncs an Arrow file). One JSON line is
printed, to stdout:
  {"peer": "python-protobuf-numpy", "events": N, "seconds": S, "bytes": file_size,
   "protobuf_backend": ..., "numpy": ..., "crc32c_hardware": bool}
`seconds` covers only the processing (open to last event), not interpreter start or imports.

usage: /usr/bin/python3 bench/peer_scone.py FILE [--limit N] [--batch 256] [--out FILE.npz]
Needs numpy, protobuf (google.protobuf) and crc32c; not tensorflow.
"""
import argparse
import gzip
import io
import json
import os
import struct
import sys
import time
import zlib

import crc32c
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal import api_implementation

W, T, C = 32, 180, 2
IMAGE_BYTES = W * T * C * 8
WAVE = np.linspace(3000.0, 10100.0, W)   # the converter's default axes
TIME = np.linspace(-30.0, 150.0, T)


def _build_example_class():
    """tf.train.Example (TensorFlow's example.proto / feature.proto field numbers), built from a
    descriptor at run time so no generated _pb2 module or tensorflow is needed."""
    f = descriptor_pb2.FileDescriptorProto(name="tf_example.proto", package="tensorflow", syntax="proto3")

    def msg(name):
        m = f.message_type.add()
        m.name = name
        return m

    def field(m, name, num, typ, label=1, type_name=None, oneof=None, packed=None):
        fd = m.field.add()
        fd.name = name
        fd.number = num
        fd.type = typ
        fd.label = label
        if type_name:
            fd.type_name = type_name
        if oneof is not None:
            fd.oneof_index = oneof
        if packed is not None:
            fd.options.packed = packed
        return fd

    D = descriptor_pb2.FieldDescriptorProto
    b = msg("BytesList"); field(b, "value", 1, D.TYPE_BYTES, D.LABEL_REPEATED)
    fl = msg("FloatList"); field(fl, "value", 1, D.TYPE_FLOAT, D.LABEL_REPEATED, packed=True)
    il = msg("Int64List"); field(il, "value", 1, D.TYPE_INT64, D.LABEL_REPEATED, packed=True)
    ft = msg("Feature"); ft.oneof_decl.add().name = "kind"
    field(ft, "bytes_list", 1, D.TYPE_MESSAGE, type_name=".tensorflow.BytesList", oneof=0)
    field(ft, "float_list", 2, D.TYPE_MESSAGE, type_name=".tensorflow.FloatList", oneof=0)
    field(ft, "int64_list", 3, D.TYPE_MESSAGE, type_name=".tensorflow.Int64List", oneof=0)
    fs = msg("Features")
    entry = fs.nested_type.add(); entry.name = "FeatureEntry"; entry.options.map_entry = True
    field(entry, "key", 1, D.TYPE_STRING)
    field(entry, "value", 2, D.TYPE_MESSAGE, type_name=".tensorflow.Feature")
    field(fs, "feature", 1, D.TYPE_MESSAGE, D.LABEL_REPEATED, type_name=".tensorflow.Features.FeatureEntry")
    ex = msg("Example"); field(ex, "features", 1, D.TYPE_MESSAGE, type_name=".tensorflow.Features")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is None:  # protobuf < 4.21
        fac = message_factory.MessageFactory(pool)
        get = lambda d: fac.GetPrototype(d)
    return get(pool.FindMessageTypeByName("tensorflow.Example"))


Example = _build_example_class()


class CorruptRecord(Exception):
    pass


def masked_crc(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class _ZlibRaw(io.RawIOBase):
    """Streaming inflate of a file that is one ZLIB stream (TensorFlow's ZLIB option)."""

    def __init__(self, fh):
        self._fh, self._z, self._buf = fh, zlib.decompressobj(), b""

    def readable(self):
        return True

    def readinto(self, b):
        while not self._buf:
            if self._z.eof:
                return 0
            chunk = self._fh.read(1 << 20)
            if not chunk:
                self._buf = self._z.flush()
                if not self._buf:
                    if not self._z.eof:
                        raise CorruptRecord("truncated ZLIB stream")
                    return 0
                break
            self._buf = self._z.decompress(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self):
        self._fh.close()
        super().close()


def open_tfrecord(path):
    """Binary stream of the records, whatever the (whole-file) compression; detected from bytes."""
    fh = open(path, "rb")
    head = fh.read(2)
    fh.seek(0)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb"), "gzip"
    if len(head) == 2 and head[0] == 0x78 and head[1] in (0x01, 0x5E, 0x9C, 0xDA) and (head[0] * 256 + head[1]) % 31 == 0:
        return io.BufferedReader(_ZlibRaw(fh), 1 << 20), "zlib"
    return fh, "none"


def records(path, limit=None):
    """Yields (index, offset, payload) for each record; raises CorruptRecord with file, byte offset
    (in the decompressed stream) and record index on any framing or CRC problem."""
    stream, _ = open_tfrecord(path)
    unpack_q, unpack_i = struct.Struct("<Q").unpack, struct.Struct("<I").unpack
    offset = index = 0
    try:
        while limit is None or index < limit:
            head = stream.read(12)
            if not head:
                return
            if len(head) < 12:
                raise CorruptRecord(f"{path}: record {index} at byte {offset}: truncated header ({len(head)} of 12 bytes)")
            if masked_crc(head[:8]) != unpack_i(head[8:12])[0]:
                raise CorruptRecord(f"{path}: record {index} at byte {offset}: length CRC mismatch")
            (length,) = unpack_q(head[:8])
            payload = stream.read(length)
            footer = stream.read(4)
            if len(payload) < length or len(footer) < 4:
                raise CorruptRecord(f"{path}: record {index} at byte {offset}: declares {length} bytes, "
                                    f"only {len(payload)} left")
            if masked_crc(payload) != unpack_i(footer)[0]:
                raise CorruptRecord(f"{path}: record {index} at byte {offset}: data CRC mismatch")
            yield index, offset, payload
            offset += 12 + length + 4
            index += 1
    finally:
        stream.close()


TOOL_COLUMNS = [
    "total_flux", "max_flux", "mean_flux", "median_flux", "std_flux", "peak_flux_wavelength_idx", "peak_flux_mjd_idx",
    "peak_flux_wavelength", "peak_flux_mjd", "lc_max", "lc_mean", "lc_peak_mjd_idx", "lc_peak_mjd", "flux_before_peak",
    "flux_after_peak", "rise_time_days", "decline_time_days", "duration_days", "spectrum_max", "spectrum_mean",
    "spectrum_peak_wavelength_idx", "spectrum_peak_wavelength", "blue_flux", "red_flux", "color_ratio", "snr_mean",
    "snr_median", "snr_max", "snr_peak", "num_nonzero_bins", "coverage_fraction", "num_epochs_with_data",
    "temporal_coverage_fraction", "num_wavelengths_with_data", "spectral_coverage_fraction", "nonfinite_values",
]
S0, S1 = int(np.argmin(np.abs(TIME - (-10)))), int(np.argmin(np.abs(TIME - 20)))
BLUE = (WAVE >= 3000) & (WAVE <= 5000)
RED = (WAVE >= 6000) & (WAVE <= 10000)


class Results:
    """Columns of per-event results, appended batch by batch."""

    def __init__(self):
        self.id, self.label, self.z, self.z_err = [], [], [], []
        self.flux, self.flux_err = [], []
        self.metrics = {c: [] for c in TOOL_COLUMNS}

    def __len__(self):
        return len(self.id)


def metrics_batch(images, out):
    """images: float64 (n, 32, 180, 2). scone_tools' summary columns per event, vectorised."""
    flux = images[..., 0]
    err = images[..., 1]
    n = len(flux)
    # planar float32 copies, one C-contiguous (n, 32, 180) array each; events are views into it
    out.flux.extend(flux.astype(np.float32))
    out.flux_err.extend(err.astype(np.float32))
    m = {}
    flat = np.ascontiguousarray(flux).reshape(n, -1)
    m["total_flux"] = flat.sum(axis=1)
    m["max_flux"] = flat.max(axis=1)
    m["mean_flux"] = flat.mean(axis=1)
    m["median_flux"] = np.median(flat, axis=1)
    m["std_flux"] = flat.std(axis=1)
    peak = flat.argmax(axis=1)
    pw, pt = peak // T, peak % T
    m["peak_flux_wavelength_idx"], m["peak_flux_mjd_idx"] = pw, pt
    m["peak_flux_wavelength"], m["peak_flux_mjd"] = WAVE[pw], TIME[pt]
    lc = flux.sum(axis=1)                                        # (n, T)
    lc_max = lc.max(axis=1)
    p = lc.argmax(axis=1)
    m["lc_max"], m["lc_mean"], m["lc_peak_mjd_idx"], m["lc_peak_mjd"] = lc_max, lc.mean(axis=1), p, TIME[p]
    before = np.arange(T)[None, :] < p[:, None]
    m["flux_before_peak"] = np.where(before, lc, 0).sum(axis=1)
    m["flux_after_peak"] = np.where(before, 0, lc).sum(axis=1)
    with np.errstate(invalid="ignore"):
        above = lc > (lc_max / 2.0)[:, None]
    anyabove = above.any(axis=1)
    first = above.argmax(axis=1)
    last = T - 1 - above[:, ::-1].argmax(axis=1)
    m["rise_time_days"] = np.where(anyabove, TIME[p] - TIME[first], np.nan)
    m["decline_time_days"] = np.where(anyabove, TIME[last] - TIME[p], np.nan)
    m["duration_days"] = np.where(anyabove, TIME[last] - TIME[first], np.nan)
    spec = flux[:, :, S0:S1].mean(axis=2)                        # (n, W)
    sp = spec.argmax(axis=1)
    m["spectrum_max"], m["spectrum_mean"], m["spectrum_peak_wavelength_idx"], m["spectrum_peak_wavelength"] = spec.max(axis=1), spec.mean(axis=1), sp, WAVE[sp]
    blue = (lc * flux[:, BLUE, :].sum(axis=1)).sum(axis=1)
    red = (lc * flux[:, RED, :].sum(axis=1)).sum(axis=1)
    m["blue_flux"], m["red_flux"] = blue, red
    with np.errstate(invalid="ignore", divide="ignore"):
        m["color_ratio"] = np.where(red > 0, blue / red, np.nan)
        snr = np.where(err > 0, flux / err, 0).reshape(n, -1)
    pos = snr > 0
    count = pos.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m["snr_mean"] = np.where(count > 0, np.where(pos, snr, 0).sum(axis=1) / count, 0)
    with np.errstate(invalid="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(np.where(pos, snr, np.nan), axis=1)
    m["snr_median"] = np.where(count > 0, med, 0)
    m["snr_max"] = snr.max(axis=1)
    m["snr_peak"] = snr[np.arange(n), peak]
    has = flux > 0
    m["num_nonzero_bins"] = has.sum(axis=(1, 2))
    m["coverage_fraction"] = m["num_nonzero_bins"] / (W * T)
    m["num_epochs_with_data"] = has.any(axis=1).sum(axis=1)
    m["temporal_coverage_fraction"] = m["num_epochs_with_data"] / T
    m["num_wavelengths_with_data"] = has.any(axis=2).sum(axis=1)
    m["spectral_coverage_fraction"] = m["num_wavelengths_with_data"] / W
    m["nonfinite_values"] = (~np.isfinite(images)).sum(axis=(1, 2, 3))
    for c in TOOL_COLUMNS:
        out.metrics[c].extend(np.asarray(m[c]).tolist())


def write(path, res):
    """The results as one uncompressed .npz (planar float32 tensors and every column), fsynced, as
    the converter writes and fsyncs its Arrow file."""
    cols = {k: np.asarray(v, dtype=np.float64 if k in ("z", "z_err") else None)
            for k, v in [("id", res.id), ("label", res.label), ("z", res.z), ("z_err", res.z_err), *res.metrics.items()]}
    with open(path, "wb") as fh:
        np.savez(fh, flux=np.stack(res.flux), flux_err=np.stack(res.flux_err), **cols)
        fh.flush()
        os.fsync(fh.fileno())


def process(path, limit=None, batch=256):
    out = Results()
    images = np.empty((batch, W, T, C), dtype=np.float64)
    flat = images.reshape(batch, -1)
    n = 0
    parse = Example.FromString
    for index, offset, payload in records(path, limit):
        try:
            fmap = parse(payload).features.feature
        except Exception as e:  # google.protobuf.message.DecodeError
            raise CorruptRecord(f"{path}: record {index} at byte {offset}: not a tf.train.Example ({e})") from None
        try:
            raw = fmap["image_raw"].bytes_list.value[0]
            out.id.append(fmap["id"].int64_list.value[0])
            out.label.append(fmap["label"].int64_list.value[0])
        except (KeyError, IndexError) as e:
            raise CorruptRecord(f"{path}: record {index} at byte {offset}: missing SCONE feature {e}") from None
        # mid-2021 SCONE files have no z / z_err: null, not an error
        out.z.append(fmap["z"].float_list.value[0] if "z" in fmap else None)
        out.z_err.append(fmap["z_err"].float_list.value[0] if "z_err" in fmap else None)
        if len(raw) != IMAGE_BYTES:
            raise CorruptRecord(f"{path}: record {index} at byte {offset}: image_raw has {len(raw)} bytes, "
                                f"expected {IMAGE_BYTES} for ({W}, {T}, {C}) float64")
        flat[n] = np.frombuffer(raw, dtype="<f8")
        n += 1
        if n == batch:
            metrics_batch(images, out)
            n = 0
    if n:
        metrics_batch(images[:n], out)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--limit", type=int, default=None, help="stop after N events")
    p.add_argument("--batch", type=int, default=256, help="events per vectorised metric batch")
    p.add_argument("--out", default=None, help="write the results to this .npz file (fsynced)")
    a = p.parse_args(argv)
    np.seterr(all="ignore")  # NaN and infinities are data here (the metrics propagate them)
    size = os.path.getsize(a.file)
    t0 = time.perf_counter()
    try:
        res = process(a.file, a.limit, max(1, a.batch))
    except CorruptRecord as e:
        print(f"peer_scone: {e}", file=sys.stderr)
        return 1
    if a.out:
        write(a.out, res)
    seconds = time.perf_counter() - t0
    print(json.dumps({"peer": "python-protobuf-numpy", "events": len(res), "seconds": seconds, "bytes": size,
                      "protobuf_backend": api_implementation.Type(), "numpy": np.__version__,
                      "crc32c_hardware": bool(crc32c.hardware_based)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
