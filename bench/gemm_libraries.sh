#!/usr/bin/env bash
# gemm_libraries.sh — build bench/gemm_libraries.cpp and measure fp32 GEMM
# throughput of OpenBLAS, BLIS and oneDNN on the Transformer training-step
# shapes; print the results as markdown.
#
# Usage (from anywhere):  bench/gemm_libraries.sh               measure, then report
#                         bench/gemm_libraries.sh RAW...        only report, from raw
#                                                               files of earlier runs
# Knobs (environment):    PASSES=3 RUNS=3 MIN_TIME=0.3 THREADS=1,2 MAX_OTHER=10 RETRIES=2
#                         ONLY=REGEX (only the variants whose label matches, e.g. 'SkylakeX$|oneDNN')
#   (a point is re-measured up to RETRIES times while other processes use more
#   than MAX_OTHER % of the machine; the "other CPU %" column shows what remained)
#
# Every library variant runs in its own process (idle thread pools of one
# library must not steal cycles from the next).  The whole set of variants is
# repeated PASSES times, round-robin, so that slow phases of this shared VM hit
# all libraries alike; a table cell is the best GFLOP/s seen for that point over
# all passes; the table shows, per point, the median over passes of the best
# run of each pass, and the best and worst single runs (to show the noise).
#
# OpenBLAS is measured
#   * with the environment as inherited (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
#     as set by the caller, reported below),
#   * with both variables removed (env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE),
#   * with OPENBLAS_CORETYPE forced to SkylakeX and to Cooperlake (the AVX-512
#     kernels; OpenBLAS 0.3.21 does not recognise this CPU model by itself).
# Raw output is kept in build_gemm/gemm_raw_<date>.txt.
set -euo pipefail

cd "$(dirname "$0")/.."
PASSES=${PASSES:-3}
RUNS=${RUNS:-3}
MIN_TIME=${MIN_TIME:-0.3}
THREADS=${THREADS:-1,2}
MAX_OTHER=${MAX_OTHER:-10}
RETRIES=${RETRIES:-2}
ONLY=${ONLY:-}
BUILD=build_gemm
BIN=$BUILD/gemm_libraries

show() { if [ -n "${!1+x}" ]; then echo "\"${!1}\""; else echo "(unset)"; fi; }

measure() {
    mkdir -p "$BUILD"
    g++ -O2 -std=c++20 -fopenmp -Wall -Wextra bench/gemm_libraries.cpp -ldl -ldnnl -o "$BIN"

    RAW=$BUILD/gemm_raw_$(date +%Y%m%d_%H%M%S).txt
    : >"$RAW"

    local inherited
    inherited="CORETYPE=$(show OPENBLAS_CORETYPE), L2_SIZE=$(show OPENBLAS_L2_SIZE)"
    # label|command prefix (environment)|extra options; the label becomes the
    # "library" column.  Every variant also measures the interplay with an
    # OpenMP loop (--interop); the last one only that, with the usual OpenBLAS
    # mitigations (passive OpenMP waiting, short OpenBLAS spin timeout).
    local variants=(
        "OpenBLAS env as set ($inherited)|env|"
        "OpenBLAS CORETYPE+L2_SIZE unset|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE|"
        "OpenBLAS CORETYPE=SkylakeX|env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=SkylakeX|"
        "OpenBLAS CORETYPE=Cooperlake|env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Cooperlake|"
        "BLIS (openmp)|env|"
        "oneDNN|env|"
        "OpenBLAS CORETYPE=SkylakeX OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4|env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4|--interop-only"
    )
    {
        echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) cpus, $(grep -q hypervisor /proc/cpuinfo && echo 'virtual machine' || echo 'bare metal')"
        echo "# env: OPENBLAS_CORETYPE=$(show OPENBLAS_CORETYPE) OPENBLAS_L2_SIZE=$(show OPENBLAS_L2_SIZE) OPENBLAS_NUM_THREADS=$(show OPENBLAS_NUM_THREADS) BLIS_NUM_THREADS=$(show BLIS_NUM_THREADS) OMP_NUM_THREADS=$(show OMP_NUM_THREADS)"
        echo "# settings: PASSES=$PASSES RUNS=$RUNS MIN_TIME=$MIN_TIME THREADS=$THREADS MAX_OTHER=$MAX_OTHER RETRIES=$RETRIES ONLY=$ONLY"
        echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >>"$RAW"
    "$BIN" --peak >>"$RAW"

    local pass v label prefix extra lib
    for ((pass = 1; pass <= PASSES; ++pass)); do
        for v in "${variants[@]}"; do
            IFS='|' read -r label prefix extra <<<"$v"
            [[ -n "$ONLY" && ! "$label" =~ $ONLY ]] && continue
            case "$label" in
                OpenBLAS*) lib=openblas ;;
                BLIS*) lib=blis ;;
                *) lib=onednn ;;
            esac
            echo "running pass $pass/$PASSES: $label" >&2
            echo "# pass $pass: start $label" >>"$RAW"
            # shellcheck disable=SC2086  # $prefix is a word list on purpose
            # A failed correctness check makes the program exit non-zero; note it
            # and go on (the report lists the failures).
            $prefix "$BIN" --lib "$lib" --label "$label" --threads "$THREADS" --runs "$RUNS" \
                --min-time "$MIN_TIME" --max-other "$MAX_OTHER" --retries "$RETRIES" --interop $extra |
                sed "s/^# /# pass $pass: /" >>"$RAW" ||
                echo "# pass $pass: $label: exit status ${PIPESTATUS[0]} (see CHECK FAILED lines)" >>"$RAW"
        done
        "$BIN" --peak | sed "s/^# /# pass $pass: /" >>"$RAW"
    done
    echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
}

if [ $# -gt 0 ]; then
    RAWS=("$@")
else
    measure
    RAWS=("$RAW")
fi

# ----------------------------------------------------------------------------
# Markdown report.
# ----------------------------------------------------------------------------
echo "## Environment"
echo
grep -hE '^# (date|cpu|env|settings|loadavg|peak)' "${RAWS[@]}" | sed 's/^# /- /'
grep -hE '^# pass [0-9]+: peak' "${RAWS[@]}" | sed 's/^# /- /'
echo
echo "## Library information and correctness checks (first pass)"
echo
grep -hE '^# pass 1: ' "${RAWS[0]}" | grep -vE ': (peak|start|interop)' | sed 's/^# pass 1: /- /'
if grep -q 'CHECK FAILED' "${RAWS[@]}"; then
    echo
    echo "**CORRECTNESS FAILURES:**"
    grep -h 'CHECK FAILED' "${RAWS[@]}" | sed 's/^# /- /'
fi
echo

awk -F'|' '
function trim(s) { gsub(/^ +| +$/, "", s); return s }
# median of v[1..n] (sorts v in place)
function median(v, n,    i, j, x) {
    for (i = 2; i <= n; ++i) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; --j) v[j + 1] = v[j]; v[j + 1] = x }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
FNR == 1 { file++ }
/^# pass [0-9]+:/ { split($0, w, /[ :]+/); pass = file "." w[3]; if (!(pass in seen_pass)) { seen_pass[pass] = 1; passes[++npass] = pass } }
/^\|/ {
    lib = trim($2); name = trim($3); form = trim($4)
    m = trim($5); n = trim($6); k = trim($7); t = trim($8)
    best = trim($9) + 0; worst = trim($10) + 0; other = trim($11) + 0
    key = lib SUBSEP name SUBSEP t
    if (!(key in B)) {
        order[++count] = key
        L[key] = lib; NAME[key] = name; FORM[key] = form; T[key] = t
        FLOP[key] = 2.0 * m * n * k; W[key] = worst; O[key] = other; B[key] = best
    }
    if (best > B[key]) B[key] = best
    if (worst < W[key]) W[key] = worst
    if (other > O[key]) O[key] = other
    PB[key, pass] = best; WP[key, pass] = worst; OT[key, pass] = other
    NP[key]++
    if (!(lib in seen_lib)) { seen_lib[lib] = 1; libs[++nlibs] = lib }
}
END {
    print "## Results"
    print ""
    print "GFLOP/s = 2*M*N*K / time.  A pass of a point is *quiet* when other processes took at most"
    print maxo "% of the machine during it.  median = median over the quiet passes (all passes if none was"
    print "quiet, marked *) of the best run of each pass; best = best single run of any pass; worst ="
    print "worst single run of the quiet passes (the noise of the VM itself); quiet = quiet / all passes;"
    print "other CPU % = the most CPU time other processes took during one pass of the point."
    print ""
    print "| library | GEMM | form | threads | median GFLOP/s | best | worst (quiet) | quiet | other CPU % |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= count; ++i) {
        key = order[i]; nv = 0; nq = 0; wq = 1e30
        for (p = 1; p <= npass; ++p)
            if ((key, passes[p]) in PB && OT[key, passes[p]] <= maxo) {
                v[++nv] = PB[key, passes[p]]; nq++
                if (WP[key, passes[p]] < wq) wq = WP[key, passes[p]]
            }
        star = ""
        if (nv == 0) {
            star = "*"; wq = W[key]
            for (p = 1; p <= npass; ++p) if ((key, passes[p]) in PB) v[++nv] = PB[key, passes[p]]
        }
        MED[key] = median(v, nv)
        printf "| %s | %s | %s | %s | %.1f%s | %.1f | %.1f | %d/%d | %d |\n", L[key], NAME[key], FORM[key], T[key], MED[key], star, B[key], wq, nq, NP[key], O[key]
    }
    print ""
    print "## Training-step mix (the 9 GEMMs of one layer: 3 forward, 3 dX, 3 dW, each once)"
    print ""
    print "Effective GFLOP/s = total flops of the 9 GEMMs / sum of their times, computed per pass from"
    print "that pass best runs, over the passes in which all 9 points were quiet (all passes if none,"
    print "marked *); shown as median (min - max) [passes used].  Cube = 2048^3, median as above."
    print ""
    print "| library | mix, 1 thread | mix, 2 threads | cube, 1 thread | cube, 2 threads |"
    print "|---|---|---|---|---|"
    for (j = 1; j <= nlibs; ++j) {
        lib = libs[j]; line = "| " lib
        for (t = 1; t <= 2; ++t) {
            for (quiet_only = 1; quiet_only >= 0; --quiet_only) {
                nm = 0
                for (p = 1; p <= npass; ++p) {
                    fl = 0; tm = 0; nshape = 0
                    for (i = 1; i <= count; ++i) {
                        key = order[i]
                        if (L[key] != lib || T[key] != t || NAME[key] == "cube (sanity)" || !((key, passes[p]) in PB)) continue
                        if (quiet_only && OT[key, passes[p]] > maxo) continue
                        fl += FLOP[key]; tm += FLOP[key] / PB[key, passes[p]]; nshape++
                    }
                    if (nshape == 9) mix[++nm] = fl / tm
                }
                if (nm > 0) break
            }
            if (nm == 0) { line = line " | -"; continue }
            lo = mix[1]; hi = mix[1]
            for (q = 2; q <= nm; ++q) { if (mix[q] < lo) lo = mix[q]; if (mix[q] > hi) hi = mix[q] }
            line = line sprintf(" | %.0f%s (%.0f - %.0f) [%d]", median(mix, nm), (quiet_only ? "" : "*"), lo, hi, nm)
        }
        for (t = 1; t <= 2; ++t) {
            key = lib SUBSEP "cube (sanity)" SUBSEP t
            line = line ((key in MED) ? sprintf(" | %.0f", MED[key]) : " | -")
        }
        print line " |"
    }
}' maxo="$MAX_OTHER" "${RAWS[@]}"
echo
echo "## Interplay with the application's OpenMP loops"
echo
echo "FFN-up forward GEMM alternating with an OpenMP loop (4 element-wise passes over the"
echo "4096x1024 output) at 2 threads; overhead = alternating / (GEMM alone + loop alone) - 1."
echo "Times are the best of 3 runs.  The median uses the quiet passes only (other CPU <= $MAX_OTHER %;"
echo "all passes if none, marked *) [passes used]."
echo
echo "| library | overhead (median) | per pass: GEMM ms / loop ms / alternating ms / overhead / other CPU |"
echo "|---|---|---|"
grep -hE '^# pass [0-9]+: interop: ' "${RAWS[@]}" | sed 's/^# pass [0-9]*: interop: //' | awk -v maxo="$MAX_OTHER" -F' [|] ' '
function num(s) { gsub(/[^-+0-9.]/, "", s); return s + 0 }
function median(v, n,    i, j, x) {
    for (i = 2; i <= n; ++i) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; --j) v[j + 1] = v[j]; v[j + 1] = x }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
    lib = $1
    if (!(lib in n)) order[++count] = lib
    n[lib]++
    ov[lib, n[lib]] = num($6); oc[lib, n[lib]] = num($7)
    detail[lib] = detail[lib] sprintf("%s%.1f / %.1f / %.1f / %+d%% / %d%%", (n[lib] > 1 ? "; " : ""), num($3), num($4), num($5), num($6), num($7))
}
END {
    for (i = 1; i <= count; ++i) {
        lib = order[i]
        nv = 0
        for (j = 1; j <= n[lib]; ++j) if (oc[lib, j] <= maxo) v[++nv] = ov[lib, j]
        star = ""
        if (nv == 0) { star = "*"; for (j = 1; j <= n[lib]; ++j) v[++nv] = ov[lib, j] }
        printf "| %s | %+d%%%s [%d] | %s |\n", lib, median(v, nv), star, nv, detail[lib]
    }
}'
echo
echo "Raw output: ${RAWS[*]}"
