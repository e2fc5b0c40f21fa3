"""The stages measured in this process, without the server: the embedder's ceiling, each detector, MTCNN's cascade."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.perf.plan import BATCH_PHOTOS, CEILING_BATCHES, REPEATS
from settings import Settings
from weights import EmbedderSpec


def model_ceiling(spec: EmbedderSpec, runtime: str) -> dict[int, list[float]]:
    """Faces/s of an embedder alone on a runtime, per batch size, REPEATS+2 timed runs each."""
    from ml.embedder import Runtime, load_embedder

    embedder = load_embedder(spec, Runtime(runtime), Settings.from_env().weights_dir)
    rng = np.random.default_rng(0)
    result = {}
    for batch in CEILING_BATCHES:
        faces = rng.integers(0, 256, (batch, spec.input_size, spec.input_size, 3), dtype=np.uint8)
        embedder.embed(faces)  # warm-up (graph tracing for this shape)
        runs = []
        for _ in range(REPEATS + 2):
            calls = max(1, 64 // batch)
            started = time.perf_counter()
            for _ in range(calls):
                embedder.embed(faces)
            runs.append(calls * batch / (time.perf_counter() - started))
        result[batch] = runs
    return result


def detection_stages(sets: dict[str, list[Path]]) -> list[list[str]]:
    """Per photo set: ms per photo in each MTCNN stage, and what batching the later stages across photos saves.

    Reaches into ml.mtcnn's stages and nets: R-Net's and O-Net's forward passes are timed
    on each photo's own candidates, then on the candidates of BATCH_PHOTOS photos at once.
    """
    import cv2

    from ml import mtcnn
    from ml.image import ImageLimits, decode_photo

    settings = Settings.from_env()
    net = mtcnn.Mtcnn(settings.min_face_size)
    limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
    rows = []
    for name, paths in sets.items():
        stage_s = np.zeros(3)
        inputs: dict[str, list[np.ndarray]] = {"rnet": [], "onet": []}
        for path in paths:
            image = decode_photo(path.read_bytes(), limits, settings.detect_max_side).pixels
            scale = settings.detect_max_side / max(image.shape[:2])
            if scale < 1:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            started = time.perf_counter()
            proposed = net._stage1(image, settings.min_face_size)
            proposed_at = time.perf_counter()
            refined = net._stage2(image, proposed) if len(proposed) else proposed
            refined_at = time.perf_counter()
            if len(refined):
                net._stage3(image, refined)
            stage_s += [proposed_at - started, refined_at - proposed_at, time.perf_counter() - refined_at]
            inputs["rnet"].append(mtcnn._normalise(mtcnn._crops(image, proposed, 24)).transpose(0, 2, 1, 3))
            inputs["onet"].append(mtcnn._normalise(mtcnn._crops(image, np.fix(refined), 48)).transpose(0, 2, 1, 3))
        forward_s = {}
        for stage, dnn in (("rnet", net._rnet), ("onet", net._onet)):
            alone = batched = 0.0
            crops = [c for c in inputs[stage] if len(c)]
            for start in range(0, len(crops), BATCH_PHOTOS):
                group = crops[start : start + BATCH_PHOTOS]
                began = time.perf_counter()
                for c in group:
                    dnn.setInput(c)
                    dnn.forward()
                alone += time.perf_counter() - began
                began = time.perf_counter()
                dnn.setInput(np.concatenate(group))
                dnn.forward()
                batched += time.perf_counter() - began
            forward_s[stage] = (alone, batched)
        per_photo = [f"{1000 * t / len(paths):.1f}" for t in stage_s]
        alone = sum(a for a, _ in forward_s.values())
        batched = sum(b for _, b in forward_s.values())
        saved = 100 * (alone - batched) / alone
        change = f"{1000 * alone / len(paths):.1f} → {1000 * batched / len(paths):.1f} ({saved:+.0f} % saved)"
        rows.append([name, *per_photo, change])
    return rows


def detector_timings(sets: dict[str, list[Path]]) -> list[list[str]]:
    """Per photo set and detector: ms per photo (p50 / p95) and the photos it found a face in, one thread.

    Each photo is decoded as the server decodes it, then timed through detect_with_retry (a
    border added when nothing is found, as for an upload): the detector's whole share of a photo.
    """
    from ml.detection import DETECTORS, make_detector
    from ml.image import ImageLimits, decode_photo
    from ml.pipeline import detect_with_retry

    settings = Settings.from_env()
    limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
    detectors = {name: make_detector(name, settings.detect_max_side, settings.min_face_size) for name in DETECTORS}
    rows = []
    for set_name, paths in sets.items():
        pixels = [decode_photo(path.read_bytes(), limits, settings.detect_max_side).pixels for path in paths]
        for name, detector in detectors.items():
            detect_with_retry(detector, pixels[0])  # warm-up: the first call allocates the nets' buffers
            times, found = [], 0
            for image in pixels:
                began = time.perf_counter()
                found += bool(detect_with_retry(detector, image))
                times.append(1000 * (time.perf_counter() - began))
            p50, p95 = np.percentile(times, [50, 95])
            rows.append([set_name, name, f"{p50:.1f}", f"{p95:.1f}", f"{found} / {len(paths)}"])
    return rows
