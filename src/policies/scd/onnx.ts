/**
 * SCD registered without its TensorFlow.js model: for a bundle that only runs SCD's ONNX export (the page,
 * apps/web/main.ts, which loads TensorFlow.js on demand). The full registration (index.ts) may follow it.
 */
import { registerPolicy } from "../registry.ts";
import { SCD } from "./spec.ts";

registerPolicy(SCD);
