/** Learned-policy registrations: one line each. */
import "./scd/index.ts";
import "./causal-diffusion/index.ts";
import "./mlp-bc/index.ts";
import "./dp-unet/index.ts";
