/** Dataset format registrations: one line each (the native .scdd format is the core's own). */
import { registerDatasetFormat } from "./formats.ts";
import { dpZarr } from "./dp-zarr/index.ts";
import { lerobot } from "./lerobot/index.ts";
import { mcap } from "./mcap/index.ts";
import { ros2Bag } from "./ros2-bag/index.ts";

registerDatasetFormat(dpZarr);
registerDatasetFormat(lerobot);
registerDatasetFormat(mcap);
registerDatasetFormat(ros2Bag);
