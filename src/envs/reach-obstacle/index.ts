import { ReachObstacleEnv } from "./reach.ts";
import { ReachExpert } from "./expert.ts";
export const make = () => new ReachObstacleEnv();
export const makeExpert = () => new ReachExpert();
export { ReachObstacleEnv, ReachExpert };
