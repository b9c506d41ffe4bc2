/**
 * Checkpoints: a directory with checkpoint.json (format, version, policy name, config, frame layout, normalizer
 * stats, step), weights.msgpack (the EMA weights used for inference) and, for --resume, train_state.msgpack
 * (raw weights, optimizer moments, RNG, step). Written into a temp directory and renamed into place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ScdError } from "../errors.ts";
import { writeDirAtomic, putFile } from "../util/outputs.ts";
import { CheckpointMeta, parseCheckpointMeta, decodePacked, decodeWeights, encodePacked, type Weights } from "./format.ts";

export { CKPT_FORMAT, CKPT_VERSION, CheckpointMeta, checkMetaParts, type Weights } from "./format.ts";

export function writeCheckpoint(dir: string, meta: CheckpointMeta, weights: Weights, trainState?: Record<string, unknown>): void {
  writeDirAtomic(dir, (tmp) => {
    putFile(tmp, "checkpoint.json", JSON.stringify(meta, null, 2) + "\n");
    putFile(tmp, "weights.msgpack", encodePacked(weights));
    if (trainState) putFile(tmp, "train_state.msgpack", encodePacked(trainState));
  });
}

/** @throws ScdError naming the file: missing, corrupt, wrong format/version, invalid or inconsistent fields. */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  const f = path.join(dir, "checkpoint.json");
  if (!fs.existsSync(f)) throw new ScdError(`${dir}: not a checkpoint (no checkpoint.json)`, "missing-file");
  let text: string;
  try {
    text = fs.readFileSync(f, "utf8");
  } catch (e) {
    throw new ScdError(`${f}: corrupt JSON (${(e as Error).message})`, "corrupt-file"); // as readVersionedJson says of an unreadable file
  }
  return parseCheckpointMeta(text, f);
}

/** The bytes of `file`. @throws ScdError "`file`: missing `what`" when it does not exist. */
function readPart(file: string, what: string): Uint8Array {
  if (!fs.existsSync(file)) throw new ScdError(`${file}: missing ${what}`, "missing-file");
  return fs.readFileSync(file);
}

export function readWeights(dir: string): Weights {
  const f = path.join(dir, "weights.msgpack");
  return decodeWeights(readPart(f, "weights"), f);
}

export function readTrainState(dir: string): Record<string, unknown> {
  const f = path.join(dir, "train_state.msgpack"), what = "training state (was this checkpoint saved without it?)";
  return decodePacked(readPart(f, what), f, what);
}
