"""The one table of docs/performance.md from the JSON lines that bench/run_all.sh writes:
every workload at every thread count, sdnc against the best peer of each round, the issues'
targets, and what a target would need against the machine's floor for that workload.

    python3 bench/summary.py OUT_DIR      (OUT_DIR holds dnc.jsonl, transformer.jsonl, real.jsonl)

Ratios are medians of per-round ratios (min–max over rounds); "best peer" is, per round, the
faster of PyTorch eager and torch.compile (R1: llama.cpp; R2: sentence-transformers). Floors:
- D1/D2: the matrices' training FLOPs (forward, dX, dW; dnc_bench's gemm_flops_per_step) at the
  sgemm 2048³ peak measured in the same run (transformer_bench peak): a lower bound on the step.
- D3: the step's three matrix-vector products alone (dnc_bench's weights_floor_ms).
- T1: the sgemm peak (the step's FLOPs at 100 % of it).
- R1: the read bandwidth measured in the same round over the bytes of weights one step reads.
A target needs the best peer's rate times the target ratio; above 100 % of the floor's rate it
cannot be met on this machine by any implementation of the same arithmetic."""
import json
import os
import statistics
import sys
from collections import defaultdict


def load(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.startswith("{")]


def main(out):
    dnc, tr, real = (load(os.path.join(out, n)) for n in ("dnc.jsonl", "transformer.jsonl", "real.jsonl"))
    # (workload, measure, threads) → round → impl → value (higher is better everywhere)
    table = defaultdict(lambda: defaultdict(dict))
    extra = defaultdict(lambda: defaultdict(dict))  # per-round side values (floors, FLOPs)
    for r in dnc:
        if "error" in r:
            continue
        w, th, rd, impl = r["workload"], r["threads"], r["round"], r["impl"]
        if w in ("D1", "D2") and "step_ms" in r:
            table[(w, "steps/s", th)][rd][impl] = 1e3 / r["step_ms"]
            if impl == "sdnc" and "gemm_flops_per_step" in r:
                extra[(w, th)][rd]["gemm_flops"] = r["gemm_flops_per_step"]
        elif w == "D3" and "steps_per_s" in r:
            table[(w, "steps/s", th)][rd][impl] = r["steps_per_s"]
            if impl == "sdnc" and "weights_floor_ms" in r:
                extra[(w, th)][rd]["floor_sps"] = 1e3 / r["weights_floor_ms"]
    peak = defaultdict(dict)  # threads → round → sgemm GFLOP/s
    for r in tr:
        w, th, rd, impl = r["workload"], r["threads"], r.get("round"), r["impl"]
        if w == "peak":
            peak[th][rd] = r["gflops_best"]
        elif w in ("T1", "T3") and "tokens_per_s" in r:
            table[(w, "tokens/s", th)][rd][impl] = r["tokens_per_s"]
            if w == "T1" and "flops_per_step" in r and "step_ms" in r:
                extra[(w, th)][rd]["flops_per_token"] = r["flops_per_step"] / (r["tokens_per_s"] * r["step_ms"] / 1e3)
                extra[(w, th)][rd].setdefault("gflops", {})[impl] = r["flops_per_step"] / r["step_ms"] * 1e-6
        elif w == "T2":
            for m in ("prefill", "decode"):
                if f"{m}_tokens_per_s" in r:
                    table[(w, f"{m} tokens/s", th)][rd][impl] = r[f"{m}_tokens_per_s"]
    for r in real:
        w, th, rd, impl = r["workload"], r["threads"], r["round"], r["impl"]
        if r.get("build") == "before":
            continue
        if w == "bandwidth":
            extra[("R1", th)][rd]["gb_s"] = r["read_gb_s"]
        elif w == "R1":
            name = impl  # sdnc with 8-bit activations is "sdnc" here (its fastest); with F32 ones "sdnc-f32"
            if impl == "sdnc":
                extra[("R1", th)][rd]["bytes"] = r["step_weight_bytes"]
                name = "sdnc" if r.get("activations") == "int8" else "sdnc-f32"
            table[("R1", "decode tokens/s", th)][rd][name] = r["decode_tok_s"]
        elif w == "R2":
            table[("R2", f"batch {r['batch']} sentences/s", th)][rd][impl] = r["sentences_s"]

    peers_of = {"R1": ["llama.cpp", "transformers"], "R2": ["sentence-transformers"]}
    targets = {("D1", 1): 20, ("D2", 1): 10, ("D2", 2): 10, ("D3", 1): 10, ("D3", 2): 10, ("T1", 1): 1.5,
               ("T1", 2): 1.5, ("T3", 1): 1.5, ("T3", 2): 1.5, ("R1", 1): 3, ("R1", 2): 3}

    def med(v):
        return statistics.median(v) if v else None

    print("| workload | threads | sdnc | best peer (per round) | sdnc / best peer (min–max) | target | "
          "what the target needs vs the floor |")
    print("|---|---|---|---|---|---|---|")
    for (w, measure, th) in sorted(table, key=lambda k: (k[0], k[1], k[2])):
        rounds = table[(w, measure, th)]
        peers = peers_of.get(w, ["torch", "torch-compile"])
        ratios, best_vals, sd, names = [], [], [], set()
        for rd, x in rounds.items():
            have = {p: x[p] for p in peers if p in x}
            if "sdnc" in x:
                sd.append(x["sdnc"])
            if "sdnc" in x and have:
                b = max(have, key=have.get)
                names.add(b)
                best_vals.append(have[b])
                ratios.append(x["sdnc"] / have[b])
        if not sd:
            continue
        ratio = f"**{med(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "–"
        best = f"{med(best_vals):.4g} ({', '.join(sorted(names))})" if best_vals else "–"
        tgt = targets.get((w, th)) if "prefill" not in measure else None
        if w == "R2":
            tgt = 3 if "batch 1 " in measure else 1.5
        need = ""
        ex = extra.get((w, th), {})
        if tgt and best_vals:
            want = tgt * med(best_vals)  # the rate the target asks of sdnc
            if w in ("D1", "D2") and ex and (peak.get(th) or peak.get(1)):
                fl = med([e["gemm_flops"] for e in ex.values() if "gemm_flops" in e])
                pk = med(list((peak.get(th) or peak[1]).values()))
                floor_rate = pk * 1e9 / fl  # steps/s if the matrices alone ran at the peak
                need = (f"{want:.4g} steps/s; the matrices alone at the {th}-thread sgemm peak ({pk:.0f} GFLOP/s) "
                        f"allow {floor_rate:.4g}: the target asks {want / floor_rate:.0%} of that floor's rate")
            elif w == "D3" and ex:
                floor_rate = med([e["floor_sps"] for e in ex.values() if "floor_sps" in e])
                need = (f"{want:.4g} steps/s; the three weight products alone allow {floor_rate:.4g}: "
                        f"the target asks {want / floor_rate:.0%} of that floor's rate")
            elif w == "T1" and ex and peak.get(th):
                pk = med(list(peak[th].values()))
                need_gf = want * med([e["flops_per_token"] for e in ex.values()]) * 1e-9  # tokens/s → GFLOP/s
                need = f"{need_gf:.0f} GFLOP/s = {need_gf / pk:.0%} of the {th}-thread sgemm peak ({pk:.0f})"
            elif w == "R1" and ex:
                fl = med([e["gb_s"] * 1e9 / e["bytes"] for e in ex.values() if "gb_s" in e and "bytes" in e])
                if fl:
                    need = (f"{want:.4g} tokens/s; the read bandwidth allows {fl:.4g}: the target asks {want / fl:.0%} "
                            f"of that floor's rate")
        print(f"| {w} {measure} | {th} | {med(sd):.4g} | {best} | {ratio} | "
              f"{'≥ ' + format(tgt, 'g') + '×' if tgt else '–'} | {need} |")
    for th in sorted(peak):
        t1 = extra.get(("T1", th), {})
        g = [e["gflops"]["sdnc"] for e in t1.values() if "sdnc" in e.get("gflops", {})]
        pk = med(list(peak[th].values()))
        if g:
            print(f"\nT1 at {th} thread(s): sdnc {med(g):.1f} GFLOP/s = {med(g) / pk:.0%} of the measured sgemm "
                  f"2048³ peak {pk:.1f} GFLOP/s (target at 2 threads: ≥ 80 %)")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: bench/summary.py OUT_DIR (the directory bench/run_all.sh wrote)")
    main(sys.argv[1])
