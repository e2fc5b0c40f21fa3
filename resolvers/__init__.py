"""The resolvers: check arguments, call ml/, search/ and models/, and return domain values.

They take plain values (ids, numbers, `images.Photo`, dataclasses) and return rows and
the dataclasses declared beside them (`verification.Verdict`, `faces.EnrolledFace`, ...);
they import nothing from schema/, whose types build themselves from what is returned.
"""
