"""The API's fixed bounds: named in its documentation, the same on every deployment (settings.py holds what a
deployment may tune). A leaf: it imports nothing of ours, and everything that enforces or documents a bound
asks it."""

from __future__ import annotations

NAME_MAX = 200  # characters of a person's name
EXTERNAL_ID_MAX = 200  # characters of a person's externalId
METADATA_MAX_BYTES = 16 * 1024  # a person's metadata, as JSON
PAGE_SIZE_MAX = 500  # `first` of persons and faces
PAGE_SIZE_DEFAULT = 50  # `first` when left out or null
REEMBED_BATCH_MAX = 500  # faces one reembedFaces call re-embeds at most
SEARCH_LIMIT_MAX = 100  # `limit` of verifyLinear, and faces compared by verifyPerson
SEARCH_LIMIT_DEFAULT = 5  # `limit` when left out or null
FACES_PER_PHOTO_MAX = 32  # faces detectFaces and recognizeFaces return (the largest), one embedder call
LIVE_FACES_MAX = 8  # faces liveRecognition answers per frame (the largest)
LIVE_STREAM_NAME_MAX = 64  # characters of a live stream's name
FACES_PER_PERSON_MAX = 100  # enrolled faces of one person (verifyPerson compares them all)
COLLECTION_NAME_MAX = 100  # characters of a collection's name
COLLECTION_DESCRIPTION_MAX = 1000  # characters of a collection's description
COLLECTIONS_MAX = 1000  # collections on one server (the `collections` list holds them all)
API_KEY_NAME_MAX = 100  # characters of an API key's name
LIVENESS_CHALLENGES_MAX = 5  # challenges of one liveness session (each head pose at most once)
LIVENESS_FRAMES_MAX = 30  # frames one checkLiveness call takes (each detected and embedded as a photo)
LIVENESS_KEYFRAMES_MAX = 60  # frames a followed session (livenessCheck) keeps and judges: each a new pose
LIVENESS_SESSION_TTL_S = 60  # seconds a liveness session may be checked after it was started
LIVENESS_CHALLENGE_WINDOW_S = 15  # seconds a followed session gives each move, from the one before
ANONYMOUS_QUERY_COST_MAX = 10_000  # the cost of an operation sent without a key (MAX_QUERY_COST for the rest)
# Variables, bounded before graphql-core coerces them (a million-float list took seconds): items of
# one list or keys of one object (an embedding has 512, a restored person 100 faces), and values in
# all (a restored person of 100 faces with 512-d embeddings holds about 52,000).
VARIABLE_LIST_MAX = 1024
VARIABLE_VALUES_MAX = 60_000


def base64_chars_max(max_bytes: int) -> int:
    """The longest base64 text taken for an image of `max_bytes`: 4 characters per 3 bytes, and 1 KiB for
    a `data:` URL prefix and stray whitespace."""
    return (max_bytes + 2) // 3 * 4 + 1024
