/**
 * arm-push-v1's module: loaded by the env registry on first use (src/envs/index.ts). `load` awaits the MuJoCo
 * WebAssembly module once, then returns the (synchronous) factory.
 */
import { ArmPushEnv, type ArmPushOptions } from "./arm-push.ts";
import { ArmPushExpert } from "./expert.ts";
import { loadMujoco } from "./mujoco.ts";

export const make = (o: Record<string, unknown>) => new ArmPushEnv(o as ArmPushOptions);
/** The registry's loader: MuJoCo first (once per process), then the factory. @throws ScdError when mujoco-js is missing. */
export async function load(): Promise<typeof make> {
  await loadMujoco();
  return make;
}
export const makeExpert = () => new ArmPushExpert();
export { ArmPushEnv, ArmPushExpert };
