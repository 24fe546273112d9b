"""Records (dicts) to an Arrow record batch, column by column from buffers.

``pa.array`` of a Python list imports pandas when it is installed (about 0.2 s, in every
worker of ``corpus extract``); building each column from its buffers does not, and costs
less than the conversion. Types: ``string``, ``int32``, ``int64``, ``bool`` and
``list<string>`` (what the record schemas use); nullability as the schema declares.
"""

from __future__ import annotations

from array import array
from itertools import accumulate
from operator import itemgetter
from typing import Any

import pyarrow as pa

_INT_CODES = {pa.int32(): "i", pa.int64(): "q"}
#: Offsets of ``string`` / ``list`` arrays are int32: a column holding more (2 GiB of text in
#: one batch) is built by ``pa.array`` instead.


def _bitmap(flags: list[bool]) -> pa.Buffer:
    """A validity or value bitmap of ``flags`` (through an int8 array cast to bool)."""
    ints = pa.Array.from_buffers(pa.int8(), len(flags), [None, pa.py_buffer(bytes(flags))])
    return ints.cast(pa.bool_()).buffers()[1]


def _offsets(lengths: list[int]) -> pa.Buffer | None:
    """int32 offsets of items of these lengths; None when they overflow int32."""
    try:
        return pa.py_buffer(array("i", accumulate(lengths, initial=0)))
    except OverflowError:
        return None


def _strings(values: list[str | None]) -> pa.Array:
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = _offsets([len(b) for b in encoded])
    if offsets is None:
        return pa.array(values, type=pa.string())
    validity = _bitmap([v is not None for v in values]) if None in values else None
    return pa.StringArray.from_buffers(len(values), offsets, pa.py_buffer(b"".join(encoded)),
                                       validity)  # fmt: skip


def _string_lists(values: list[list[str]]) -> pa.Array:
    offsets = _offsets([len(v) for v in values])
    if offsets is None:
        return pa.array(values, type=pa.list_(pa.string()))
    items = _strings([s for v in values for s in v])
    return pa.ListArray.from_buffers(pa.list_(pa.string()), len(values), [None, offsets],
                                     children=[items])  # fmt: skip


def column(values: list[Any], type_: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array of ``type_`` (no nulls in a list column)."""
    if type_ == pa.string():
        return _strings(values)
    if type_ in _INT_CODES:
        data = pa.py_buffer(array(_INT_CODES[type_], values))
        return pa.Array.from_buffers(type_, len(values), [None, data])
    if type_ == pa.bool_():
        return pa.Array.from_buffers(type_, len(values), [None, _bitmap(values)])
    if type_ == pa.list_(pa.string()):
        return _string_lists(values)
    raise TypeError(f"no column builder for {type_}")


def record_batch(records: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """``records`` (each with every field of ``schema``) as one record batch of ``schema``."""
    get = itemgetter(*schema.names)
    one = len(schema) == 1  # itemgetter of one name gives the value, not a 1-tuple
    rows = ((get(r),) if one else get(r) for r in records)  # a tuple per record, transposed:
    by_column = list(zip(*rows, strict=True)) or [()] * len(schema)
    cols = [column(list(values), f.type) for values, f in zip(by_column, schema, strict=True)]
    return pa.RecordBatch.from_arrays(cols, schema=schema)
