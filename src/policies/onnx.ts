/**
 * ONNX export registrations (graph builder + runtime per policy): one line each.
 *
 * @module scd-policy/policies/onnx
 */
import "./scd/onnx.ts";
import "./causal-diffusion/onnx.ts";
import "./mlp-bc/onnx.ts";
import "./dp-unet/onnx.ts";
