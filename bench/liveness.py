"""Liveness on sessions made from LFW photos: BPCER and APCER per attack (make bench-liveness).

The sessions are devdata.liveness's (bona fide ones and five attacks, all from real
photos: there is no presentation-attack set here). Each is judged by ml.liveness with
the shipped settings and the default model's threshold, as checkLiveness judges one,
without the HTTP around it. Writes bench/results/liveness.md with ISO/IEC 30107-3's
figures: BPCER (bona fide sessions refused) and APCER per attack type, with counts.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import time

from bench.report import RESULTS, header, pct, table
from bounds import LIVENESS_KEYFRAMES_MAX
from devdata import liveness as sets
from ml import liveness
from services import build_pipeline
from settings import Settings

TARGETS = {"bona fide": 0.05, "still photo": 0.01, "warped photo": 0.01, "wrong order": 0.01, "identity switch": 0.01}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=30)
    parser.add_argument("--per-person", type=int, default=10, help="bona fide sessions a person (and as many attacks)")
    parser.add_argument("--out", default=str(RESULTS / "liveness.md"))
    args = parser.parse_args()

    started = time.perf_counter()
    pipeline = build_pipeline(Settings())
    cache: dict[bytes, liveness.Observed] = {}

    def observe(frames: list[bytes]) -> list[liveness.Observed]:
        keys = [hashlib.sha256(frame).digest() for frame in frames]
        new = {key: frame for key, frame in zip(keys, frames, strict=True) if key not in cache}
        cache.update(zip(new, liveness.observe(pipeline, list(new.values())), strict=True))
        return [cache[key] for key in keys]

    persons = [p for p in (sets.observed_person(f, observe) for f in sets.lfw_persons(args.persons)) if p]
    outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    sessions = 0
    followed: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for session in sets.sessions(persons, args.per_person):
        frames = observe(list(session.frames))
        verdict = liveness.judge(session.challenges, frames, pipeline.default_threshold)
        outcomes[session.kind]["LIVE" if verdict.live else str(verdict.failed)] += 1
        step = follow(session.challenges, frames, pipeline.default_threshold)
        followed[session.kind]["LIVE" if step.live else str(step.failed)] += 1
        sessions += 1
    seconds = time.perf_counter() - started

    rows = []
    for kind, counts in outcomes.items():
        total = sum(counts.values())
        wrong, measure = errors(kind, counts)
        wrong_followed, _ = errors(kind, followed[kind])
        target = TARGETS.get(kind)
        reached = "-" if target is None else ("met" if max(wrong, wrong_followed) / total <= target else "**missed**")
        checks = ", ".join(f"{name} {n}" for name, n in counts.most_common() if name != "LIVE") or "-"
        rows.append(
            [
                kind,
                str(total),
                f"{measure} {pct(wrong / total)} ({wrong})",
                f"{pct(wrong_followed / total)} ({wrong_followed})",
                "-" if target is None else f"≤ {pct(target, 0)}",
                reached,
                checks,
            ]
        )
    command = f"make bench-liveness ARGS='--persons {args.persons} --per-person {args.per_person}'"
    lines = header("Liveness: challenge-response sessions from LFW photos", command)
    lines += [
        f"- Persons: {len(persons)} LFW persons of {sets.MIN_PHOTOS}+ photos (seed {sets.SEED}); "
        f"{sessions} sessions of 3 challenges, {len(cache)} distinct frames, {seconds:.0f} s",
        f"- Model: {pipeline.model_id}, identity threshold {pipeline.default_threshold:.3f}; turn ≥ "
        f"{liveness.TURN_MIN_DEG:.0f}°, nod ≥ {liveness.NOD_MIN_DEG:.0f}°, closer ≥ {liveness.CLOSER_MIN_SCALE}×",
        "",
        *table(["set", "sessions", "checkLiveness (count)", "livenessCheck", "target", "", "failed checks"], rows),
        "",
        "BPCER: bona fide sessions refused. APCER: attack sessions passed as live. Each set is",
        "described in devdata/liveness.py; they are made from photos, not recorded attacks.",
        "checkLiveness judges a session's frames as one burst; livenessCheck follows them one by one as",
        "a camera's (ml.liveness.Follower: frames kept as the pose moves, the session ended by its first",
        "failure, or by its expiry when the moves never come). Failed checks are checkLiveness's.",
        "",
    ]
    with open(args.out, "w") as out:
        out.write("\n".join(lines))
    print("\n".join(lines))


def errors(kind: str, counts: collections.Counter[str]) -> tuple[int, str]:
    """Bona fide sessions refused (BPCER), or attacks passed (APCER)."""
    if kind == "bona fide":
        return sum(counts.values()) - counts["LIVE"], "BPCER"
    return counts["LIVE"], "APCER"


def follow(
    challenges: tuple[liveness.Challenge, ...], frames: list[liveness.Observed], threshold: float
) -> liveness.Verdict:
    """The verdict of livenessCheck on the frames sent one by one (its expiry's when none came first)."""
    follower = liveness.Follower(challenges, threshold, LIVENESS_KEYFRAMES_MAX)
    for frame in frames:
        if (verdict := follower.add(frame).verdict) is not None:
            return verdict
    return follower.expire()


if __name__ == "__main__":
    main()
