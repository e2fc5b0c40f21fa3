"""Performance benchmark: `make bench-perf` (python -m bench.perf).

Starts the real server (`python app.py`, as `make run` does; devdata.server) on a free
local port with a fresh database in a temporary folder, drives it over HTTP from
this separate process, and writes bench/results/perf.md. Every figure comes from
this one run on this one machine; timings are medians of repetitions with spread.

The stages, each in its module: the model ceiling and MTCNN's stages in this process
(`inprocess.py`), enrolment, search on growing galleries and overload through the
server (`stages.py`, with the HTTP load of `load.py` and the synthetic rows of
`gallery.py`), the peer like for like and memory under a mixed load (`stages.py`,
`sets.py`), bench-live's streams (`bench/live.py`); `run.py` runs them in order and `markdown.py` writes the report.
"""
