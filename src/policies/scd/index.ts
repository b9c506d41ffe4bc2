import { registerPolicy } from "../registry.ts";
import { ScdModel } from "./model.ts";
import { SCD } from "./spec.ts";

registerPolicy({ ...SCD, create: (c, layout, seed) => new ScdModel(c, layout, seed) });
