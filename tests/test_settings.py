"""Settings come from the environment, and a bad one names itself before anything starts."""

from __future__ import annotations

import socket
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from ml.detection import DETECTORS
from ml.embedder import Runtime
from settings import Settings, SettingsError
from weights import EMBEDDERS


def test_defaults_and_environment():
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env(
        {"PORT": "9000", "FACE_DETECTOR": "HAAR", "EMBEDDER": "facenet512", "CORS_ORIGINS": "https://a, https://b"}
    )
    assert settings.port == 9000 and settings.detector == "haar" and settings.embedder == "facenet512"
    assert settings.cors_origins == ("https://a", "https://b")
    assert Settings.from_env({"PORT": ""}).port == 8000  # empty means unset


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PORT": "abc"}, r"PORT='abc': .*integer"),
        ({"MAX_PENDING": "0"}, r"MAX_PENDING='0': .*greater than or equal to 1"),
        ({"DETECT_MAX_SIDE": "-1"}, r"DETECT_MAX_SIDE='-1'"),
        ({"FACE_DETECTOR": "foo"}, r"FACE_DETECTOR='foo': .*'mtcnn', 'haar', 'yunet', 'yunet-int8' or 'yunet-onet'"),
        ({"EMBEDDER": "arcface"}, r"EMBEDDER='arcface': .*facenet128, facenet512"),
        ({"MIN_DETECTION_SCORE": "2"}, r"MIN_DETECTION_SCORE='2'"),
        ({"SEARCH_BACKEND": "faiss"}, r"SEARCH_BACKEND='faiss': .*no such search backend; choose memory, pgvector"),
        ({"SEARCH_BACKEND": "pgvector"}, r"SEARCH_BACKEND=pgvector needs a PostgreSQL DATABASE_URL"),
    ],
)
def test_a_bad_setting_names_itself(environ, expected):
    with pytest.raises(SettingsError, match=expected):
        Settings.from_env(environ)


def test_choices_match_what_the_code_can_build():
    detector = typing.get_args(Settings.model_fields["detector"].annotation)
    assert set(detector) == set(DETECTORS)
    runtime = typing.get_args(Settings.model_fields["embedder_runtime"].annotation)
    assert set(runtime) == set(Runtime)
    for name in EMBEDDERS:
        assert Settings(embedder=name).embedder == name


def test_the_server_refuses_to_start_with_a_clear_message():
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=root, env={"PORT": "abc"}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "faceid: bad setting: PORT='abc': Input should be a valid integer, unable to parse string as an integer"
    )


def test_embedders_load_the_default_first_and_each_once():
    settings = Settings.from_env({"EMBEDDER": "facenet512", "EMBEDDERS": " FaceNet128, facenet512 ,facenet128"})
    assert settings.loaded_embedders == ("facenet512", "facenet128")
    assert Settings.from_env({}).loaded_embedders == (Settings().embedder,)
    with pytest.raises(SettingsError, match=r"EMBEDDERS.*no such embedder: arcface"):
        Settings.from_env({"EMBEDDERS": "facenet128,arcface"})


def test_a_dotenv_file_gives_settings_under_the_environment(tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text("# the operator's\nPORT=9001\nEMBEDDER=facenet128\nLOG_FORMAT=json\n")
    from_file = Settings.from_env({}, env_file=env_file)
    assert (from_file.port, from_file.embedder, from_file.log_format) == (9001, "facenet128", "json")
    assert Settings.from_env({"PORT": "9002"}, env_file=env_file).port == 9002  # the environment wins
    assert Settings.from_env({}, env_file=tmp_path / "missing.env").port == 8000


def test_a_taken_port_stops_the_server_before_the_models_load():
    root = Path(__file__).resolve().parent.parent
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "app.py"], cwd=root, env={"PORT": str(port)}, capture_output=True, text=True, timeout=120
        )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"faceid: cannot listen on 127.0.0.1:{port} (Address already in use); set PORT or HOST"
    )
    assert "ready:" not in done.stderr
