"""Face pipeline: decoding, detection, alignment, embedding and matching.

Plain NumPy arrays and dataclasses in and out: nothing here knows GraphQL or the
database, so the same code serves the API, the benchmarks and other programs.
"""
