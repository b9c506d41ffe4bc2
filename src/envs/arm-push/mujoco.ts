/**
 * The official MuJoCo WebAssembly module (npm `mujoco-js` 0.0.7, MuJoCo 3.3.8, Apache-2.0), loaded once per
 * process on first use, and a model loader that turns MuJoCo's parse and compile errors into one-line ScdErrors.
 * `mujoco-js` is an optional peer dependency of scd-policy: only the MuJoCo envs need it.
 */
import type { MainModule, MjModel, MjData } from "mujoco-js";
import { ScdError } from "../../errors.ts";

export type { MainModule as Mujoco, MjModel, MjData };

/** The version this package is tested with, and the command that installs it. */
export const MUJOCO_JS_VERSION = "0.0.7";
export const MUJOCO_INSTALL = `npm install mujoco-js@${MUJOCO_JS_VERSION}`;

let loading: Promise<MainModule> | null = null;
let mod: MainModule | null = null;
/** What the module printed since the last {@link takeMessages} (MuJoCo reports load errors and warnings by printing). */
const messages: string[] = [];

/**
 * Load the module (once; later calls share it). A variable specifier keeps bundlers and tsc from requiring the
 * optional peer. @throws ScdError naming the install command when `mujoco-js` is not installed.
 */
export function loadMujoco(): Promise<MainModule> {
  loading ??= (async () => {
    const spec = "mujoco-js";
    let factory: (arg?: Record<string, unknown>) => Promise<MainModule>;
    try {
      factory = ((await import(spec)) as { default: typeof factory }).default;
    } catch (e) {
      loading = null;
      const msg = (e as Error).message ?? String(e);
      throw new ScdError(
        /Cannot find (package|module)/.test(msg)
          ? `the MuJoCo envs need mujoco-js ${MUJOCO_JS_VERSION} (an optional peer dependency of scd-policy, not installed): ${MUJOCO_INSTALL}`
          : `mujoco-js failed to load: ${msg.split("\n")[0]}`,
        "missing-file",
      );
    }
    const push = (s: string) => void (messages.push(String(s)), messages.length > 50 && messages.shift());
    try {
      mod = await factory({ print: push, printErr: push });
    } catch (e) {
      loading = null; // a later call tries again
      throw new ScdError(`mujoco-js ${MUJOCO_JS_VERSION} failed to start: ${String((e as Error)?.message ?? e).split("\n")[0]}`, "run-failed", 1);
    }
    return mod;
  })();
  return loading;
}

/** The loaded module. @throws Error when {@link loadMujoco} has not finished (an env made without its registry loader). */
export function mujoco(): MainModule {
  if (!mod) throw new Error("MuJoCo is not loaded yet: make MuJoCo envs through makeEnv (its loader awaits loadMujoco())");
  return mod;
}

/** The module's printed messages since the last call, joined into one line. */
export function takeMessages(): string {
  if (!messages.length) return "";
  const s = messages.join(" ").replace(/\s+/g, " ").trim();
  messages.length = 0;
  return s;
}

/** How many messages the module printed since the last {@link takeMessages} (MuJoCo warns before it resets unstable data). */
export function messageCount(): number {
  return messages.length;
}

let fileCounter = 0;

/**
 * MJCF texts MuJoCo refused, and why (at most 64, oldest dropped). MuJoCo's wasm build leaks about 100 kB of heap
 * per refused model on its C++-exception path (a bad attribute or a compile error: measured here), so the same bad
 * text is refused from this cache instead of reaching MuJoCo again.
 */
const refused = new Map<string, string>();

/**
 * Compile an MJCF string into an MjModel (the caller deletes it). `where` names the model in errors.
 * @throws ScdError (kind "corrupt-file") with MuJoCo's own parse or compile message, e.g. "XML parse error …".
 */
export function loadModel(xml: string, where: string): MjModel {
  const mj = mujoco();
  const fail = (why: string): never => {
    refused.set(xml, why);
    if (refused.size > 64) refused.delete(refused.keys().next().value!);
    throw new ScdError(`${where}: MuJoCo could not load the model: ${why}`, "corrupt-file");
  };
  const known = refused.get(xml);
  if (known !== undefined) fail(known);
  const file = `/scd-model-${fileCounter++}.xml`;
  takeMessages();
  mj.FS.writeFile(file, xml);
  let model: MjModel | null = null;
  try {
    model = mj.MjModel.loadFromXML(file);
  } catch (e) {
    fail(takeMessages() || cppMessage(mj, e));
  } finally {
    mj.FS.unlink(file);
  }
  if (!model) fail(takeMessages().replace(/^Loading error: /, "") || "unknown error");
  return model!;
}

/**
 * The message of a C++ exception thrown through the module: MuJoCo's mjXError / mjCError begin with their message
 * (char[500]), read from the heap through a view of a tiny probe model kept for the purpose. Emscripten keeps
 * the exception object (about 0.5 kB per failed load): decrementing its count aborts this build.
 */
function cppMessage(mj: MainModule, e: unknown): string {
  const ptr = (e as { excPtr?: number })?.excPtr;
  if (typeof ptr !== "number") return (e as Error)?.message ?? String(e);
  probe ??= (() => {
    mj.FS.writeFile("/scd-probe.xml", "<mujoco><worldbody><geom type='sphere' size='1'/></worldbody></mujoco>");
    try {
      return mj.MjModel.loadFromXML("/scd-probe.xml");
    } finally {
      mj.FS.unlink("/scd-probe.xml");
    }
  })();
  const heap = new Uint8Array((probe.geom_size as Float64Array).buffer); // afresh: the heap may have grown
  let s = "";
  for (let i = ptr; i < ptr + 500 && i < heap.length && heap[i]; i++) s += String.fromCharCode(heap[i]);
  return s.replace(/\s+/g, " ").trim() || (e as Error)?.name || "unknown error";
}
let probe: MjModel | null = null;

/** Bytes in the wasm heap now (it grows, never shrinks; capped at 2 GiB): read through a view of `data`. */
export function heapBytes(data: MjData): number {
  return (data.qpos as Float64Array).buffer.byteLength;
}
