/** Dataset format registrations: one line each (the native .scdd format is the core's own). */
import { registerDatasetFormat } from "../src/data/formats.ts";
import { dpZarr } from "./dp-zarr/index.ts";

registerDatasetFormat(dpZarr);
