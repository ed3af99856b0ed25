// The dataset kinds arrowsmith reads, and the one detector that every command (convert, inspect,
// stats, verify) asks what an input is. The container comes from the file's first bytes, not its
// name: a ZIP is an NPZ, a gzip/zlib stream or a first record header whose CRC checks out is a
// TFRecord. The name decides only for bytes that are neither, so that a damaged `.tfrecord` or
// `.npz` is reported by its reader at the damage. Anything else (our own Arrow, Parquet or CSV
// outputs, a lone .npy, text) is refused here with one clear error, before any reader guesses.
import { ArrowsmithError } from "../errors.js";
import { detectTFRecordKind } from "../pipeline/convert-file.js";
import { type OpenedNpz, openNpz } from "../pipeline/npz-task.js";
import { isClusterArchive } from "./clusters.js";
import type { Kernels } from "../wasm.js";
import { type Container, detectContainer } from "./container.js";

export { type Container, detectContainer, noInputsError } from "./container.js";

export type DatasetKind = "scone" | "clusters" | "generic";

export interface KindInfo {
  name: DatasetKind;
  /** The containers this kind comes in. */
  containers: readonly Container[];
  what: string;
}

/** The registry: every kind, the containers it is read from, and what it is. */
export const KINDS: Readonly<Record<DatasetKind, KindInfo>> = {
  scone: { name: "scone", containers: ["tfrecord"], what: "SCONE heatmap TFRecords (image_raw, id, label)" },
  clusters: { name: "clusters", containers: ["npz"], what: "DUNE cluster NPZ batches (images, metadata)" },
  generic: { name: "generic", containers: ["tfrecord", "npz"], what: "any TFRecord of tf.train.Example, any NPZ of arrays sharing a leading dimension" },
};

/** Checks a requested kind against the container; returns the kind to read it as ("auto" left for the content to decide). */
export function checkRequestedKind(path: string, container: Container, requested: "auto" | DatasetKind): "auto" | DatasetKind {
  if (requested !== "auto" && !KINDS[requested].containers.includes(container)) {
    throw new ArrowsmithError("usage", `--kind ${requested} reads ${KINDS[requested].what}, and this is ${container === "npz" ? "an NPZ archive" : "a TFRecord file"}`, {
      file: path, hint: `use --kind auto, or ${Object.values(KINDS).filter((x) => x.containers.includes(container)).map((x) => x.name).join(" or ")}`,
    });
  }
  return requested;
}

/**
 * What an input is and the kind to read it as: the requested kind (checked against the container),
 * or for `--kind auto` what its content says (a ZIP with `images` and `metadata` is a cluster batch;
 * TFRecord records with `image_raw`, `id` and `label` are SCONE; anything else is generic). An input
 * too damaged to tell is given the container's first kind, and its reader reports the damage.
 */
export async function detectInput(k: Kernels, path: string, requested: "auto" | DatasetKind = "auto"): Promise<{ container: Container; kind: DatasetKind }> {
  const container = detectContainer(path, k);
  const want = checkRequestedKind(path, container, requested);
  if (want !== "auto") return { container, kind: want };
  if (container === "tfrecord") return { container, kind: await detectTFRecordKind(k, path) };
  let input: OpenedNpz | undefined;
  try {
    input = openNpz(path, false);
    return { container, kind: !input.zip || isClusterArchive(input.zip) ? "clusters" : "generic" };
  } catch (e) {
    if (e instanceof ArrowsmithError && e.code !== "io") return { container, kind: "clusters" };
    throw e;
  } finally {
    input?.close();
  }
}
