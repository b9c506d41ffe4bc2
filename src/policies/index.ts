/**
 * Learned-policy registrations: one line each (scd, entangled-diffusion, mlp-bc, dp-unet).
 *
 * @module scd-policy/policies
 */
import "./scd/index.ts";
import "./entangled-diffusion/index.ts";
import "./mlp-bc/index.ts";
import "./dp-unet/index.ts";
