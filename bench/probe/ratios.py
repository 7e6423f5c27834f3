#!/usr/bin/env python3
"""Ratios of one variant to the baseline from bench_probe.sh's windows, robust to a noisy VM.

Input lines: VARIANT ROUND REQUESTS_PER_S CPU_US_PER_REQUEST (one per measured window).
Usage: ratios.py FILE BASE VARIANT  ->  one line: the estimate, its 95% interval, the median
of the rounds' own ratios, and the same for CPU per request.

Why the upper quartile: on a shared VM a neighbour can only slow a window down (it takes the
core, the cache or the memory bus), never speed it up, so the least disturbed windows of each
variant are the best estimate of what the variant itself costs. The mean of each variant's
fastest quarter of windows (for CPU per request: its cheapest quarter) is that estimate, less
jumpy than the single best window (the minimum-time argument of Chen and Revels, "Robust
benchmarking in noisy environments", 2016). The interval comes from resampling whole rounds
(both variants' windows of a round together), 4000 times; the A/A pair (no probe in either
variant) shows what the method reads when nothing differs.
"""
import random
import statistics
import sys


def load(path):
    rounds = {}
    for line in open(path):
        f = line.split()
        if len(f) != 4:
            continue
        variant, rnd, rps, cpu = f[0], int(f[1]), float(f[2]), float(f[3])
        rounds.setdefault(rnd, {})[variant] = (rps, cpu)
    return rounds


def quartile_mean(values, best_high):
    """Mean of the best quarter of the values (at least one)."""
    v = sorted(values, reverse=best_high)
    return statistics.fmean(v[: max(1, len(v) // 4)])


def estimate(pairs):
    """pairs: [(base (rps, cpu), variant (rps, cpu))]; (req/s ratio, CPU ratio), > 1 is faster."""
    rps = quartile_mean([v[0] for _, v in pairs], True) / quartile_mean([b[0] for b, _ in pairs], True)
    cpu = quartile_mean([b[1] for b, _ in pairs], False) / quartile_mean([v[1] for _, v in pairs], False)
    return rps, cpu


def main():
    path, base, variant = sys.argv[1:4]
    rounds = load(path)
    pairs = [(r[base], r[variant]) for _, r in sorted(rounds.items()) if base in r and variant in r]
    if len(pairs) < 4:
        sys.exit("ratios.py: fewer than 4 rounds with both %s and %s in %s" % (base, variant, path))
    rps, cpu = estimate(pairs)
    rng = random.Random(1)  # the same interval for the same data
    boot = [estimate([rng.choice(pairs) for _ in pairs]) for _ in range(4000)]
    lo_r, hi_r = (sorted(b[0] for b in boot)[i] for i in (100, 3899))
    lo_c, hi_c = (sorted(b[1] for b in boot)[i] for i in (100, 3899))
    med_r = statistics.median(v[0] / b[0] for b, v in pairs)
    med_c = statistics.median(b[1] / v[1] for b, v in pairs)
    print("req/s %.4f [%.4f, %.4f] (median of rounds %.4f); CPU per request %.4f [%.4f, %.4f]"
          " (median %.4f); %d rounds" % (rps, lo_r, hi_r, med_r, cpu, lo_c, hi_c, med_c, len(pairs)))


if __name__ == "__main__":
    main()
