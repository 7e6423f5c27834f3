#!/usr/bin/env python3
"""Ratios of one variant to the baseline from bench_probe.sh's windows, with their uncertainty.

Input lines: VARIANT ROUND REQUESTS_PER_S CPU_US_PER_REQUEST (one per measured window).
Usage: ratios.py FILE BASE VARIANT  ->  one line: the median of the rounds' own ratios (the
two windows of a round are seconds apart, so a slow spell on a shared VM falls on both) and
its 95% interval, for requests/s (variant / base) and for CPU per request (base / variant),
so that below 1 is always "the variant costs this much".

bench_probe.sh reverses the variants' order every other round, so a round's ratio carries the
effect of where each variant sat in it, one way in odd rounds and the other in even ones. Each
odd round is therefore taken with the even round after it (the geometric mean of their two
ratios), and the median and the interval are over these pairs of rounds.

The interval comes from resampling the rounds 4000 times (percentile bootstrap of the median):
on the CI machine one 2-second window varies by 5 to 10% from the next, and the interval is
what says whether a target is met or only not contradicted. The A/A pair (no probe in either
variant) shows what the method reads when nothing differs.
"""
import math
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


def by_round_pairs(ratios):
    """Round 2k-1 with round 2k (opposite orders): their geometric mean; a last odd one alone."""
    return [math.sqrt(ratios[i] * ratios[i + 1]) if i + 1 < len(ratios) else ratios[i]
            for i in range(0, len(ratios), 2)]


def median_with_interval(ratios, rng):
    boot = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(4000))
    return statistics.median(ratios), boot[100], boot[3899]


def main():
    path, base, variant = sys.argv[1:4]
    pairs = [(r[base], r[variant]) for _, r in sorted(load(path).items()) if base in r and variant in r]
    if len(pairs) < 4:
        sys.exit("ratios.py: fewer than 4 rounds with both %s and %s in %s" % (base, variant, path))
    rng = random.Random(1)  # the same interval for the same data
    rps = median_with_interval(by_round_pairs([v[0] / b[0] for b, v in pairs]), rng)
    cpu = median_with_interval(by_round_pairs([b[1] / v[1] for b, v in pairs]), rng)
    print("req/s %.4f [%.4f, %.4f]; CPU per request %.4f [%.4f, %.4f]; %d rounds"
          % (*rps, *cpu, len(pairs)))


if __name__ == "__main__":
    main()
