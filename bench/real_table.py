"""The tables of bench/run_real_bench.sh from its JSON lines: medians over rounds of each
measurement, and medians of the per-round ratios sdnc / peer (so slow drift of the machine's
load cancels within a round).  Usage: real_table.py results.jsonl"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    by = defaultdict(dict)  # (round, key) → value
    for r in rows:
        w, t, rd = r["workload"], r["threads"], r["round"]
        if r.get("build") == "before":  # run_real_bench.sh --before: the old binary's lines
            r["impl"] = "sdnc-before"
        if w == "bandwidth":
            by[("bw", t)][rd] = r["read_gb_s"]
            if "read_gb_cpu_s" in r:
                by[("bw_cpu", t)][rd] = r["read_gb_cpu_s"]
        elif w == "R1":
            name = r["impl"] + (f" {r['activations']}" if r["impl"].startswith("sdnc") else "")
            for what in ("prefill", "decode"):
                by[(what, name, t)][rd] = r[f"{what}_tok_s"]
            if "decode_tok_cpu_s" in r:
                by[("decode_cpu", name, t)][rd] = r["decode_tok_cpu_s"]
            if r["impl"] == "sdnc":
                by[("bytes",)][rd] = r["step_weight_bytes"]
        elif w == "R2":
            by[("embed", r["impl"], t, r["batch"])][rd] = r["sentences_s"]

    def med(key):
        v = list(by.get(key, {}).values())
        return statistics.median(v) if v else None

    def ratio(a, b):
        common = set(by.get(a, {})) & set(by.get(b, {}))
        return statistics.median(by[a][k] / by[b][k] for k in common) if common else None

    def f(v, digits=1):
        return "–" if v is None else f"{v:.{digits}f}"

    threads = sorted({r["threads"] for r in rows})
    step_mb = (med(("bytes",)) or 0) / 1e6
    print(f"\nR1 SmolLM2-135M Q4_1, greedy, tokens/s (median of {len({r['round'] for r in rows})} rounds); "
          f"one step reads {step_mb:.1f} MB of weights")
    print("| threads | phase | sdnc F32 act. | sdnc int8 act. | llama.cpp | transformers fp32 | "
          "int8 / llama.cpp | F32 / llama.cpp | int8 / transformers | floor (bandwidth / bytes) | int8 / floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for t in threads:
        for what in ("prefill", "decode"):
            k = lambda n: (what, n, t)  # noqa: E731
            floor = None
            if what == "decode" and med(("bw", t)) and step_mb:
                floor = med(("bw", t)) * 1e3 / step_mb
            share = None
            if floor and med(k("sdnc int8")):
                share = f"{100 * med(k('sdnc int8')) / floor:.0f} %"
            print(f"| {t} | {what} | {f(med(k('sdnc f32')))} | {f(med(k('sdnc int8')))} | {f(med(k('llama.cpp')))} | "
                  f"{f(med(k('transformers')))} | {f(ratio(k('sdnc int8'), k('llama.cpp')), 2)}× | "
                  f"{f(ratio(k('sdnc f32'), k('llama.cpp')), 2)}× | {f(ratio(k('sdnc int8'), k('transformers')), 2)}× | "
                  f"{f(floor)} ({f(med(('bw', t)), 2)} GB/s) | {share or '–'} |")
    cpu = [(t, a, med(("decode_cpu", f"sdnc {a}", t))) for t in threads for a in ("f32", "int8")]
    if any(v for tt, _, v in cpu if tt == 1):
        print("\nR1 decode per second of process CPU time, 1 thread (what a core the other load leaves alone gives):")
        bw = med(("bw_cpu", 1))
        floor = bw * 1e3 / step_mb if bw and step_mb else None
        for t, a, v in cpu:
            if t == 1 and v:
                print(f"- sdnc {a} act.: {v:.1f} tokens per CPU second" +
                      (f" = {100 * v / floor:.0f} % of the floor per CPU second {floor:.1f} ({bw:.2f} GB/s)"
                       if floor else ""))
    print("\nR2 all-MiniLM-L6-v2, 64 sentences, sentences/s (median of rounds)")
    print("| threads | batch | sdnc | sentence-transformers | sdnc / sentence-transformers |")
    print("|---|---|---|---|---|")
    for t in threads:
        for b in sorted({r["batch"] for r in rows if r["workload"] == "R2"}):
            a, p = ("embed", "sdnc", t, b), ("embed", "sentence-transformers", t, b)
            print(f"| {t} | {b} | {f(med(a))} | {f(med(p))} | {f(ratio(a, p), 2)}× |")
    if not any(r["impl"] == "sdnc-before" for r in rows):
        return
    print("\nsdnc now vs the --before binary, same rounds (median of per-round ratios)")
    print("| threads | measurement | before | now | now / before |")
    print("|---|---|---|---|---|")
    for t in threads:
        for what in ("prefill", "decode"):
            for act in ("f32", "int8"):
                a, b = (what, f"sdnc {act}", t), (what, f"sdnc-before {act}", t)
                print(f"| {t} | R1 {what}, {act} act. | {f(med(b))} | {f(med(a))} | {f(ratio(a, b), 2)}× |")
        for bt in sorted({r["batch"] for r in rows if r["workload"] == "R2"}):
            a, b = ("embed", "sdnc", t, bt), ("embed", "sdnc-before", t, bt)
            print(f"| {t} | R2 batch {bt} | {f(med(b))} | {f(med(a))} | {f(ratio(a, b), 2)}× |")


if __name__ == "__main__":
    main(sys.argv[1])
