"""Keep TensorFlow's and LiteRT's native start-up chatter off the console.

TensorFlow's C++ code writes INFO lines (oneDNN, CPU features, CUDA probing) to file
descriptor 2 before any setting can silence them; TF_CPP_MIN_LOG_LEVEL no longer
reaches them all. While the models load, fd 2 goes to a temporary file; afterwards
everything but those known lines is written back.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

NOISE = re.compile(
    r"^(I0000|W0000 .*(cuda|gpu)|WARNING: All log messages before absl|To enable the following instructions)"
    r"|cuInit|cuda_platform|cudart_stub|cpu_feature_guard|oneDNN custom operations"
    r"|XNNPACK delegate|tf_tfl_flatbuffer_helpers",
    re.IGNORECASE,
)


@contextmanager
def native_logs_filtered() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [line for line in sink.read().decode(errors="replace").splitlines() if not NOISE.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()
