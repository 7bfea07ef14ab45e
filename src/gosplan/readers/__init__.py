"""Publisher readers.  Each module exposes ``read_<publisher>(path, ...) -> Economy``.

Readers raise :class:`gosplan.errors.ReaderError` naming the file, sheet, row
and column of anything they do not understand.  See ``docs/readers.md``.
"""
