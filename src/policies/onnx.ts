/**
 * Kept for compatibility: each policy's ONNX export (graphs traced from its model, and the runtime) is part of its
 * one registration, so this entry registers the policies (src/policies/index.ts). A bundle that must run an ONNX
 * export without TensorFlow.js registers the policy's spec alone (as the page does with src/policies/scd/onnx.ts).
 *
 * @module scd-policy/policies/onnx
 */
import "./index.ts";
