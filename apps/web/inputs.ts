/**
 * The page's boxes, read and checked: a box's own min/max/step are not enforced on typed values, so a bad
 * value would reach the simulator or the loop. Each reader returns the value, or throws InputError naming the box
 * and the value (the page shows it in the status line and marks the box).
 */
import type { Strategy } from "../../src/loop/queue.ts";

export class InputError extends Error {}

const box = (id: string) => document.getElementById(id) as HTMLInputElement;

/** A whole number in [min, max] from box `id`; `what` names it in the error. */
export function wholeNumber(id: string, what: string, min: number, max: number): number {
  const b = box(id), s = b.value.trim(), v = Number(s);
  const ok = s !== "" && Number.isInteger(v) && v >= min && v <= max;
  b.classList.toggle("invalid", !ok);
  b.setAttribute("aria-invalid", String(!ok));
  if (!ok) throw new InputError(`${what} must be a whole number from ${min} to ${max} (got "${s}")`);
  return v;
}

/** Seeds as Gymnasium / NumPy take them: 0 … 2³² − 1. */
export const seedValue = () => wholeNumber("seed", "seed", 0, 2 ** 32 - 1);
/** Denoising steps K: 1 … 1000 (1000 steps already take well over a 10 Hz tick here). */
export const denoisingSteps = () => wholeNumber("k", "denoising steps K", 1, 1000);
/** An episode index of a loaded dataset with `n` episodes. */
export const episodeIndex = (n: number) => wholeNumber("episode", "episode", 0, n - 1);

/** The Strategy select as the loop's strategy for chunks of `h` actions. */
export function strategy(h: number): Strategy {
  const s = (document.getElementById("strategy") as HTMLSelectElement).value;
  if (s === "ensemble") return { kind: "ensemble", m: 0.01 };
  if (s === "async") return { kind: "async", threshold: Math.floor(h / 2), merge: "latest" };
  // real-time chunking: the actions that run while a chunk is computed stay as planned (delay = the last
  // inference's, measured), the rest of the new chunk is guided to continue them
  if (s === "rtc") return { kind: "rtc", execute: Math.min(8, h), delay: "auto" };
  return { kind: "receding", execute: Math.min(8, h) };
}
