#!/usr/bin/env python3
"""Print the README's results tables from runs/*/eval.json (the files experiments/pusht/experiments.sh and
experiments/pusht/ablations.sh write). Missing runs print as 'not run'."""
import json, os, sys
from collections import Counter

def ev(path):
    if not os.path.exists(path):
        return None
    return json.load(open(path))

def meta(run):
    p = f"runs/{run}/checkpoint/checkpoint.json"
    return json.load(open(p)) if os.path.exists(p) else None

def row(label, run, path=None):
    d = ev(path or f"runs/{run}/eval.json")
    m = meta(run) if run else None
    if not d:
        return f"| {label} | not run | | | |"
    a = d["aggregated"]
    params = f"{m['numParams']:,}" if m else ""
    return f"| {label} | {a['avg_max_reward']:.3f} | {a['pc_success']:.0f} % | {a['n_episodes']} | {params} |"

out = []
out.append("| Push-T policy (keypoints) | mean score | success | episodes | parameters |")
out.append("|---|---|---|---|---|")
out.append(row("SCD, 2000 steps × 64 windows (shipped checkpoint)", "pusht-scd"))
out.append(row("SCD, 1000 steps × 32", "pusht-scd-1k"))
out.append(row("entangled causal diffusion, 1000 steps × 32", "pusht-ent-1k"))
out.append(row("MLP-BC, 1000 steps × 32", "pusht-mlp-1k"))
out.append("")
out.append("| ablation (SCD, 1000 steps × 32 unless said) | mean score | success | episodes | parameters |")
out.append("|---|---|---|---|---|")
out.append(row("history 16 frames, decoder depth 1 (default)", "pusht-scd-1k"))
out.append(row("history 2 frames", "abl-hist2"))
out.append(row("decoder depth 2", "abl-dec2"))
for k in [1, 2, 5, 10, 20]:
    out.append(row(f"K = {k} denoising steps (shipped checkpoint)", None, f"runs/abl-k{k}.json"))
out.append("")
out.append("| reach-obstacle-v1 (multimodal) | success | left / right / none | episodes |")
out.append("|---|---|---|---|")
for label, run, p in [("SCD, 1000 steps × 32", "reach-scd", None), ("SCD, 2000 steps × 32 (resumed)", "reach-scd-long", None), ("MLP-BC, 1000 steps × 32", "reach-mlp", None)]:
    d = ev(p or f"runs/{run}/eval.json") or ev(f"runs/{run}/eval.json")
    if not d:
        out.append(f"| {label} | not run | | |")
        continue
    sides = Counter(e.get("final_info", {}).get("side", "?") for e in d["per_episode"])
    out.append(f"| {label} | {d['aggregated']['pc_success']:.0f} % | {sides.get('left', 0)} / {sides.get('right', 0)} / {sides.get('none', 0)} | {d['aggregated']['n_episodes']} |")
print("\n".join(out))
