import { PushTEnv, type PushTOptions } from "./pusht.ts";
export const make = (o: Record<string, unknown>) => new PushTEnv(o as PushTOptions);
export { PushTEnv };
