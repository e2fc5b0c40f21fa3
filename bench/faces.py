"""Our pipeline under test, photo set by photo set, with cached detections and embeddings.

Each photo is decoded and run through each detector once; crops and embeddings
are made per configuration (embedder, crop recipe, face choice, mirroring), the
way the server makes them (ml.pipeline), and cached on disk (bench/cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.cache import Store, key
from ml.detection import Detection, Detector, make_detector
from ml.embedder import Embedder, load_embedder
from ml.exceptions import NoFace
from ml.image import ImageLimits, Photo, decode_photo
from ml.pipeline import DEFAULT_FACE_CHOICE, FaceChoice, FacePipeline, choose_face, detect_photo
from ml.quality import FaceQuality
from settings import Settings
from weights import DEFAULT_EMBEDDER, EMBEDDERS, CropRecipe

BATCH = 32


@dataclass(frozen=True)
class Config:
    """One way of turning photos into embeddings; the defaults are what the server ships."""

    label: str
    embedder: str = DEFAULT_EMBEDDER
    detector: str = "mtcnn"
    recipe: CropRecipe | None = None  # None: the manifest's for this embedder and detector
    choice: FaceChoice = DEFAULT_FACE_CHOICE
    mirror: bool = False

    def shipped_recipe(self) -> CropRecipe:
        return EMBEDDERS[self.embedder].recipe(self.detector)

    def crop_recipe(self) -> CropRecipe:
        return self.recipe or self.shipped_recipe()

    @property
    def model_id(self) -> str:
        return EMBEDDERS[self.embedder].model_id(self.detector, self.crop_recipe())


@dataclass
class Embedded:
    """A configuration's result on a photo set: vectors (None: no face found) and qualities."""

    vectors: dict[Path, np.ndarray | None]
    quality: dict[Path, FaceQuality] = field(default_factory=dict)


class Faces:
    def __init__(self, settings: Settings, use_cache: bool = True) -> None:
        self.settings = settings
        self.limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
        self.use_cache = use_cache
        self._detectors: dict[str, Detector] = {}
        self._embedders: dict[str, Embedder] = {}
        self._detections: dict[str, Store] = {}
        self._embeddings: dict[str, Store] = {}
        self._photos: dict[Path, Photo] = {}

    def detector(self, name: str) -> Detector:
        if name not in self._detectors:
            self._detectors[name] = make_detector(
                name, self.settings.detect_max_side, self.settings.min_face_size, self.settings.weights_dir
            )
        return self._detectors[name]

    def embedder(self, name: str) -> Embedder:
        if name not in self._embedders:
            self._embedders[name] = load_embedder(EMBEDDERS[name], weights_dir=self.settings.weights_dir)
        return self._embedders[name]

    def pipeline(self, config: Config) -> FacePipeline:
        return FacePipeline(
            self.detector(config.detector),
            self.embedder(config.embedder),
            self.limits,
            config.crop_recipe(),
            config.choice,
        )

    def photo(self, path: Path) -> Photo:
        """Decoded as the server decodes it (large JPEGs reduced for the detector)."""
        if path not in self._photos:
            self._photos[path] = decode_photo(path.read_bytes(), self.limits, self.settings.detect_max_side)
        return self._photos[path]

    def detections(self, detector: str, photos: list[Path]) -> dict[Path, list[Detection]]:
        """Every face each photo holds, as the server's detect step finds them (with its retry)."""
        # "draft": large JPEGs are decoded reduced (ml.image.decode_photo).
        name = f"detections-{key(detector, self.settings.detect_max_side, self.settings.min_face_size, 'draft')}"
        store = self._detections.setdefault(name, Store(name, self.use_cache))
        todo = [p for p in photos if str(p) not in store]
        for path in todo:
            store[str(path)] = detect_photo(self.detector(detector), self.photo(path))
        store.save()
        return {p: store[str(p)] for p in photos}

    def embed(self, config: Config, photos: list[Path]) -> Embedded:
        pipeline = self.pipeline(config)
        found = self.detections(config.detector, photos)
        recipe = config.crop_recipe()  # its threshold and id do not shape the embeddings
        runtime = self.embedder(config.embedder).runtime
        shape = (recipe.landmarks, recipe.margin, config.mirror)
        if (recipe.fit, recipe.border) != ("robust", "replicate"):  # the earlier recipes keep their caches
            shape += (recipe.fit, recipe.border)
        # Detectors may give one box different landmarks: each keeps its own (MTCNN's key is that of older runs).
        detector = () if config.detector == "mtcnn" else (config.detector,)
        name = f"embeddings-{key(config.embedder, runtime, *shape, *detector)}"
        store = self._embeddings.setdefault(name, Store(name, self.use_cache))
        chosen: dict[Path, Detection | None] = {}
        for path in photos:
            try:
                chosen[path] = choose_face(found[path], False, self.photo(path).shape, config.choice)
            except NoFace:
                chosen[path] = None
        result = Embedded({})
        todo = []
        for path, face in chosen.items():
            if face is None:
                result.vectors[path] = None
                continue
            photo = self.photo(path)
            located = pipeline.cut_photo(photo, face)
            result.quality[path] = located.quality
            # A photo decoded reduced may give its crop from the reduced pixels: key those apart.
            cache_key = (str(path), face.box) if photo.reduction == 1.0 else (str(path), face.box, photo.reduction)
            if cache_key in store:
                result.vectors[path] = store[cache_key]
            else:
                todo.append((path, cache_key, located.crop))
        embedder = self.embedder(config.embedder)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            vectors = embedder.embed(np.stack([crop for _, _, crop in chunk]), mirror=config.mirror)
            for (path, cache_key, _), vector in zip(chunk, vectors, strict=True):
                store[cache_key] = result.vectors[path] = vector
        store.save()
        return result
