/**
 * Env registrations: one line each, loaded lazily on first use. Importing "scd-policy/envs" registers pusht-v1, pusht-image-v1,
 * reach-obstacle-v1 and arm-push-v1 (MuJoCo; needs the optional peer mujoco-js) in the env registry (`makeEnv`, `envIds`).
 *
 * @module scd-policy/envs
 */
import { registerEnv } from "./registry.ts";
import { registerExpert } from "../policies/builtin.ts";

registerEnv({ id: "pusht-v1", description: "Push-T (Diffusion Policy), 10 Hz, keypoint or state observations", load: async () => (await import("./pusht/index.ts")).make, maxEpisodeSteps: 300, clipActions: true });
registerEnv({ id: "reach-obstacle-v1", description: "multimodal reaching around an obstacle (left or right)", load: async () => (await import("./reach-obstacle/index.ts")).make, maxEpisodeSteps: 100, clipActions: true });
registerExpert("reach-obstacle-v1", async () => (await import("./reach-obstacle/index.ts")).makeExpert);
registerEnv({ id: "arm-push-v1", description: "a Franka Panda pushes a cube to a target pose (MuJoCo wasm: mujoco-js), 10 Hz", load: async () => (await import("./arm-push/index.ts")).load(), maxEpisodeSteps: 200, clipActions: true });
registerExpert("arm-push-v1", async () => (await import("./arm-push/index.ts")).makeExpert);
registerEnv({ id: "pusht-image-v1", description: "Push-T with Diffusion Policy's 96 × 96 camera frame and the agent position (gym-pusht pixels_agent_pos)", load: async () => (await import("./pusht/index.ts")).make, maxEpisodeSteps: 300, clipActions: true, defaults: { obsType: "pixels_agent_pos" } });
