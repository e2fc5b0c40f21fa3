"""The run: every stage in order, then the report (bench/results/perf.md)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import devdata
from bench.perf import stages
from bench.perf.inprocess import detection_stages, detector_timings, model_ceiling
from bench.perf.load import bench_server
from bench.perf.markdown import Measured, perf_report
from bench.perf.plan import CEILING_RUNS, LIVE_SECONDS
from bench.perf.sets import photo_sets
from bench.report import RESULTS


def main() -> None:
    parser = argparse.ArgumentParser(description="Performance benchmark: make bench-perf (python -m bench.perf)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()

    enrol_photos = [path.read_bytes() for path in sorted(devdata.DEEPFACE.glob("*.jpg"))]
    probe_photos = [path.read_bytes() for paths in devdata.celebrity_photos("val").values() for path in paths]

    print("model ceiling ...", flush=True)
    ceilings = {(spec.key, runtime): model_ceiling(spec, runtime) for spec, runtime in CEILING_RUNS}
    sets = photo_sets()
    set_photos = {name: [path.read_bytes() for path in paths] for name, paths in sets.items()}
    print("detectors and detection stages ...", flush=True)
    detector_rows = detector_timings(sets)
    stage_rows = detection_stages(sets)

    with tempfile.TemporaryDirectory(prefix="faceid-bench-") as tmp:
        data_dir = Path(tmp)
        server = bench_server(data_dir)
        enrolment = stages.enrolment(server, enrol_photos)
        search = stages.search(server, f"sqlite://{data_dir / 'faces.sqlite3'}", probe_photos)
        # On a fresh server and database: the galleries above count their rows.
        like_for_like = stages.like_for_like(bench_server(data_dir / "fresh"), sets, set_photos)
        print("live recognition ...", flush=True)
        live_runs, live_verifications = stages.live(bench_server(data_dir / "live"), LIVE_SECONDS)

    measured = Measured(
        enrol_photos=len(enrol_photos),
        probe_photos=len(probe_photos),
        ceilings=ceilings,
        detector_rows=detector_rows,
        stage_rows=stage_rows,
        sets=sets,
        enrolment=enrolment,
        search=search,
        like_for_like=like_for_like,
        live_runs=live_runs,
        live_verifications=live_verifications,
        minutes=(time.perf_counter() - began) / 60,
    )
    lines = perf_report(measured)
    args.out.joinpath("perf.md").write_text("\n".join(lines))
    print("\n".join(lines))
