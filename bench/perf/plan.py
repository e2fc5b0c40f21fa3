"""What the performance run measures: the served model, the sizes, the repetitions, the requests."""

from __future__ import annotations

from ml.embedder import runtimes_of
from weights import DEFAULT_DETECTOR, DEFAULT_EMBEDDER, EMBEDDERS

EMBEDDER = EMBEDDERS[DEFAULT_EMBEDDER]  # the server runs with its default settings
MODEL_ID = EMBEDDER.model_id(DEFAULT_DETECTOR)
RUNTIME_NAMES = {"litert": "LiteRT (XNNPACK)", "tensorflow": "TensorFlow", "opencv": "OpenCV DNN"}
CEILING_BATCHES = (1, 8, 32)
# The served model on every runtime it has, and each other model on its CPU runtime (LiteRT, or OpenCV for SFace).
CEILING_RUNS = [(EMBEDDER, runtime.value) for runtime in runtimes_of(EMBEDDER)] + [
    (spec, runtimes_of(spec)[0].value) for spec in EMBEDDERS.values() if spec is not EMBEDDER
]
CONCURRENCY = (1, 4, 16)
GALLERY_SIZES = (1_000, 10_000, 100_000)
REPEATS = 3
BATCH_PHOTOS = 8  # photos whose R-Net and O-Net candidates the detection-stage probe batches together
FACES_PER_RANDOM_PERSON = 10

CREATE_FACE = "mutation($p: ID!, $f: Upload!) { createFace(personId: $p, image: {upload: $f}) { id } }"
VERIFY = "query($f: Upload!) { verifyLinear(image: {upload: $f}, limit: 5) { match searched } }"
DETECT = "query($f: Upload!) { detectFaces(image: {upload: $f}) { score } }"
RECOGNIZE = "query($f: Upload!) { recognizeFaces(image: {upload: $f}) { match } }"
# Like for like with the peer (issue 12): each photo set enrolled at this concurrency, against
# face_recognition with a process per core on the same photos.
SET_CONCURRENCY = 8
LFW_SAMPLE = 100  # LFW photos (250 x 250) in the per-set comparison
# Memory under a mixed load: this many requests, twice; each cycle of MIX is one of each, in order.
MIXED_REQUESTS = 1000
MIX = ("verify", "enrol", "verify", "detect", "recognize")
LIVE_SECONDS = 30.0  # each of bench-live's three streams
LIVE_LOADED_RUN = 2  # the stream beside the verifying clients: the one the targets are about
