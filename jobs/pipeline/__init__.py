"""The per-file pipeline: pure functions over a file on disk that return plain data, knowing nothing
of jobs, HTTP or the queue. `analysis.analyse` runs them in order for one file.

This package imports nothing itself: the web server and the import command use its light modules
(formats, thumbnails) without loading the decoders (numpy, scipy, PyAV, libheif) that only the
workers need."""
