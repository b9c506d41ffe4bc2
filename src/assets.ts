/**
 * Files that ship with the package and are read by path at run time: the pretrained Push-T checkpoint and the
 * human Push-T demonstrations. Found from this module's own location by walking up to the package root (the first
 * folder with a package.json), because the same code runs from two depths: src/assets.ts in a checkout (through
 * tsx) and dist/src/assets.js in an installed package — the assets live at the package root in both.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`scd-policy: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** The scd-policy package's root folder (the checkout, or node_modules/scd-policy). */
export const PACKAGE_ROOT = findRoot();
/** The shipped Push-T SCD checkpoint (a directory for `loadPolicy` / `scd eval --policy`). */
export const SHIPPED_PUSHT = path.join(PACKAGE_ROOT, "assets/checkpoints/scd-pusht");
/** The shipped arm-push-v1 SCD checkpoint (its README: run it with 2 actions executed per chunk). */
export const SHIPPED_ARM_PUSH = path.join(PACKAGE_ROOT, "assets/checkpoints/arm-push");
/** The Push-T SCD checkpoint trained from pixels (observation.image + agent_pos; pusht-image-v1). In the repository, not in the npm package (11 MB). */
export const SHIPPED_PUSHT_IMAGE = path.join(PACKAGE_ROOT, "assets/checkpoints/pusht-image");
/** The 206 human Push-T demonstrations (native .scdd; `scd train`'s default dataset). */
export const PUSHT_DATASET = path.join(PACKAGE_ROOT, "assets/datasets/pusht/pusht_human.scdd");
